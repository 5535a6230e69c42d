"""A real SOAP 1.1 ticket service for tests: spyne served by a threading wsgiref server on loopback.

Each server gets its own spyne Application (spyne caches the WSDL, soap:address included, per
Application) and its own state: the tickets it took, a scripted fault, a delay, the raw requests.
"""

from __future__ import annotations

import io
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.util import spec_from_loader
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


def _import_spyne() -> None:
    """Import spyne quietly and teach its bundled six the PEP 451 finder API.

    spyne 2.14 ships an old six whose meta-path importer lacks find_spec: every import that reaches
    it raises ImportWarning, an error under filterwarnings=error, even in unrelated code later on.
    The three methods are the ones six 1.16 added upstream.
    """
    with warnings.catch_warnings():
        # spyne's own imports also pull in `cgi`, deprecated in 3.11: not ours to fix.
        warnings.simplefilter("ignore", ImportWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import spyne.protocol.soap
        import spyne.server.wsgi  # noqa: F401 - imported under the filter, used below
        import spyne.util.six as six

    importer: Any = six._SixMetaPathImporter

    def find_spec(self: Any, fullname: str, path: object, target: object = None) -> object:
        return spec_from_loader(fullname, self) if fullname in self.known_modules else None

    importer.find_spec = find_spec
    importer.create_module = lambda self, spec: self.load_module(spec.name)
    importer.exec_module = lambda self, module: None


_import_spyne()

from spyne import Application, DateTime, Fault, Integer, ServiceBase, Unicode, rpc  # noqa: E402
from spyne.protocol.soap import Soap11  # noqa: E402
from spyne.server.wsgi import WsgiApplication  # noqa: E402

_REQUIRED = {"min_occurs": 1, "nillable": False}


@dataclass
class TicketDesk:
    """What the service saw and how it should misbehave next."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    # (faultcode, faultstring) pairs, each answered once, in order
    faults: list[tuple[str, str]] = field(default_factory=list)
    delay_s: float = 0.0


def _service(desk: TicketDesk) -> type[ServiceBase]:
    class TicketService(ServiceBase):  # type: ignore[misc]
        @rpc(  # type: ignore[untyped-decorator]
            Unicode(**_REQUIRED),
            Unicode,
            Unicode,
            DateTime(**_REQUIRED),
            Unicode(**_REQUIRED),
            _returns=Integer,
        )
        def CreateTicket(  # the operation name is the SOAP contract
            ctx: Any,
            ticket_number: str,
            phone: str,
            caller_id: str,
            created_at: datetime,
            kind: str,
        ) -> int:
            time.sleep(desk.delay_s)
            if desk.faults:
                code, text = desk.faults.pop(0)
                raise Fault(faultcode=code, faultstring=text)
            desk.tickets.append(
                {
                    "ticket_number": ticket_number,
                    "phone": phone,
                    "caller_id": caller_id,
                    "created_at": created_at,
                    "kind": kind,
                }
            )
            return 1000 + len(desk.tickets)

    return TicketService


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow request must not hold up shutdown


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _recording(
    app: Callable[..., Iterable[bytes]], desk: TicketDesk
) -> Callable[..., Iterable[bytes]]:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            desk.requests.append(body)
            environ["wsgi.input"] = io.BytesIO(body)
        return app(environ, start_response)

    return wrapped


@contextmanager
def soap_server(desk: TicketDesk | None = None) -> Iterator[tuple[str, TicketDesk]]:
    """Serve on 127.0.0.1:<free port>; yields (wsdl_url, desk)."""
    desk = desk if desk is not None else TicketDesk()
    app = Application(
        [_service(desk)],
        tns="urn:example:tickets",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    httpd = make_server(
        "127.0.0.1",
        0,
        _recording(WsgiApplication(app), desk),
        server_class=_Server,
        handler_class=_Quiet,
    )
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/?wsdl", desk
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
