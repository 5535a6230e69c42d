"""deploy/nginx/desborde.conf: nginx accepts it, and a real nginx built from it terminates TLS,
adds HSTS, redirects plain HTTP and passes X-Forwarded-* to a web UI on loopback."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import trustme

from tests.support.tools import require_tool

CONF = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "desborde.conf"
HOST = "desborde.example.com"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _EchoHeaders(BaseHTTPRequestHandler):
    """Stands in for the web UI: answers with the headers it received, or a 500 on /boom."""

    def do_GET(self) -> None:
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(500 if self.path == "/boom" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class Proxy:
    https_port: int
    http_port: int
    ca: trustme.CA


def _render(
    tmp: Path, backend: int, https_port: int, http_port: int, cert: Path, key: Path
) -> Path:
    """The example with test ports, paths and certificate; each replaced line must exist."""
    site = CONF.read_text(encoding="utf-8")
    for old, new in {
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{backend};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:443 ssl http2;": "",
        "listen [::]:80;": "",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
    }.items():
        assert old in site, f"the example no longer has {old!r}: update this test"
        site = site.replace(old, new)
    (tmp / "desborde.conf").write_text(site, encoding="utf-8")
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp dirs
    main = (
        f"{user}pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nworker_processes 1;\n"
        "events {}\nhttp {\n"
        f"  access_log off;\n  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  include {tmp}/desborde.conf;\n}}\n"
    )
    (tmp / "nginx.conf").write_text(main, encoding="utf-8")
    return tmp / "nginx.conf"


def _nginx(conf: Path, *args: str) -> list[str]:
    return [
        require_tool("nginx"),
        "-p",
        str(conf.parent),
        "-e",
        str(conf.parent / "error.log"),
        "-c",
        str(conf),
        *args,
    ]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"nginx exited: {log.read_text(encoding='utf-8', errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("nginx did not start listening")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp("nginx")
    ca = trustme.CA()
    leaf = ca.issue_cert(HOST, "127.0.0.1")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    for extra in leaf.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    leaf.private_key_pem.write_to_path(str(key))
    backend = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    https_port, http_port = _free_port(), _free_port()
    conf = _render(tmp, backend.server_address[1], https_port, http_port, cert, key)
    proc = subprocess.Popen(_nginx(conf, "-g", "daemon off;"))
    try:
        _wait_listening(https_port, proc, tmp / "error.log")
        yield Proxy(https_port, http_port, ca)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        backend.shutdown()
        backend.server_close()


def _client(proxy: Proxy) -> httpx.Client:
    context = ssl.create_default_context()
    proxy.ca.configure_trust(context)
    return httpx.Client(verify=context, headers={"Host": HOST}, timeout=10)


def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    conf = _render(
        tmp_path, 8080, _free_port(), _free_port(), tmp_path / "c.pem", tmp_path / "k.pem"
    )
    leaf = trustme.CA().issue_cert(HOST)
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "c.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "k.pem"))
    result = subprocess.run(_nginx(conf, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_https_reaches_the_web_ui_with_forwarded_headers(proxy: Proxy) -> None:
    with _client(proxy) as client:
        response = client.get(f"https://127.0.0.1:{proxy.https_port}/calls")
    assert response.status_code == 200
    seen = response.json()
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-host"] == HOST
    assert seen["host"] == HOST


@pytest.mark.parametrize("path", ["/", "/boom"])
def test_hsts_on_every_answer_even_errors(proxy: Proxy, path: str) -> None:
    with _client(proxy) as client:
        response = client.get(f"https://127.0.0.1:{proxy.https_port}{path}")
    assert response.status_code == (500 if path == "/boom" else 200)
    hsts = response.headers["strict-transport-security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 31536000, hsts
    assert response.headers["x-content-type-options"] == "nosniff"


def test_plain_http_redirects_to_https(proxy: Proxy) -> None:
    with httpx.Client(headers={"Host": HOST}, timeout=10) as client:
        response = client.get(f"http://127.0.0.1:{proxy.http_port}/messages?page=2")
    assert response.status_code == 301
    assert response.headers["location"] == f"https://{HOST}/messages?page=2"
