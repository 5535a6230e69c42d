"""`SoapExporter`: calls one WSDL operation per event kind with zeep, fields mapped to parameters.

A SOAP Fault is a failed attempt that keeps the fault text; whether it is retried depends on its
code (SOAP 1.1 codes are dotted, so "Server" also covers "Server.Busy"). zeep blocks: it runs in
a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import zeep
import zeep.exceptions
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from appliance.errors import ConfigError, ExportError
from appliance.ports.delivery import EXPORT_FIELDS, ExportFields

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SoapOperation:
    name: str
    parameters: Mapping[str, str]  # SOAP parameter name -> our field name (EXPORT_FIELDS)

    def __post_init__(self) -> None:
        unknown = set(self.parameters.values()) - EXPORT_FIELDS
        if unknown:
            raise ConfigError(f"SOAP operation {self.name}: unknown fields {sorted(unknown)}")


@dataclass(frozen=True)
class SoapSettings:
    wsdl_url: str
    operations: Mapping[str, SoapOperation]  # event kind -> operation
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0
    transient_fault_codes: frozenset[str] = frozenset({"Server"})
    max_concurrent: int = 2


class SoapExporter:
    def __init__(self, settings: SoapSettings) -> None:
        self._settings = settings
        self._client: zeep.Client | None = None
        self._client_lock = threading.Lock()
        self._slots = asyncio.Semaphore(settings.max_concurrent)

    def handles(self, event_kind: str) -> bool:
        return event_kind in self._settings.operations

    async def export(self, event_kind: str, fields: ExportFields) -> None:
        operation = self._settings.operations.get(event_kind)
        if operation is None:
            raise ExportError(f"no SOAP operation configured for {event_kind!r}", transient=False)
        arguments = {param: fields.get(name) for param, name in operation.parameters.items()}
        async with self._slots:
            result = await asyncio.to_thread(self._call, operation.name, arguments)
        log.info("SOAP %s %s -> %r", event_kind, operation.name, result)

    def _call(self, operation: str, arguments: dict[str, object]) -> object:
        try:
            return self._invoke(operation, arguments)
        except zeep.exceptions.Fault as exc:
            code = str(exc.code or "")
            raise ExportError(
                f"SOAP fault {code}: {exc.message}", transient=self._is_transient(code)
            ) from exc
        except zeep.exceptions.TransportError as exc:
            transient = exc.status_code >= 500 or exc.status_code in (408, 429)
            raise ExportError(
                f"SOAP HTTP {exc.status_code}: {exc.message}", transient=transient
            ) from exc
        except zeep.exceptions.Error as exc:
            # Validation and parsing errors: the payload or the service contract is wrong.
            raise ExportError(f"SOAP {operation}: {exc}", transient=False) from exc
        except OSError as exc:  # requests' connection errors and timeouts are OSErrors
            raise ExportError(f"SOAP {operation}: {exc}", transient=True) from exc

    def _invoke(self, operation: str, arguments: dict[str, object]) -> object:
        service = self._loaded_client().service
        try:
            service_op = service[operation]
        except AttributeError as exc:
            raise ExportError(
                f"SOAP: the WSDL has no operation {operation}", transient=False
            ) from exc
        return service_op(**arguments)

    def _loaded_client(self) -> zeep.Client:
        # The WSDL is fetched on first use, not at start-up, so a service that is down while
        # the appliance boots only delays exports.
        with self._client_lock:
            if self._client is None:
                s = self._settings
                transport = Transport(timeout=s.timeout_s, operation_timeout=s.timeout_s)  # type: ignore[no-untyped-call]
                wsse = (
                    UsernameToken(s.username, s.password)  # type: ignore[no-untyped-call]
                    if s.username
                    else None
                )
                self._client = zeep.Client(  # type: ignore[no-untyped-call]
                    s.wsdl_url, transport=transport, wsse=wsse
                )
            return self._client

    def _is_transient(self, code: str) -> bool:
        local = code.rsplit(":", 1)[-1].rsplit("}", 1)[-1]
        return any(
            local == c or local.startswith(c + ".") for c in self._settings.transient_fault_codes
        )
