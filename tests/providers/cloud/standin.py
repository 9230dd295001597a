"""A local HTTP(S) server that answers a cloud SDK with replies shaped as its API documents.

The SDK under test really talks to it over a socket, so the SDK's own request building,
authentication, retries and reply parsing all run. Each stand-in (k8s_api.py, gce_api.py,
...) subclasses StandIn with routes; every request is kept in ``requests`` so a test can check
the body the SDK sent, field by field.

    test ──control (in process)──▶ StandIn state ◀──HTTP── SDK ◀── provider under test
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the SDK sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: bytes = b""


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Reply]


class StandIn:
    """Routes ``(method, path regex)`` to handlers taking the Request and the path groups."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        stand_in = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests read ``requests`` instead

            def _serve(self) -> None:
                stand_in._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        # a short poll interval: stop() (shutdown) waits up to one interval
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        name=f"standin-{type(self).__name__}", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def sent(self, method: str, path_pattern: str) -> list[Request]:
        """The requests with this method whose path matches ``path_pattern``."""
        rx = re.compile(path_pattern)
        with self.lock:
            return [r for r in self.requests if r.method == method and rx.search(r.path)]

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        req = Request(h.command, parts.path, parse_qs(parts.query),
                      {k.lower(): v for k, v in h.headers.items()}, body, raw)
        with self.lock:
            self.requests.append(req)
        reply = Reply(404, {"error": f"stand-in has no route for {h.command} {parts.path}"})
        for method, rx, handler in self.routes:
            match = rx.match(parts.path)
            if method == h.command and match:
                try:
                    reply = handler(req, *match.groups())
                except Exception as exc:  # a stand-in bug must show, not hang the SDK
                    reply = Reply(500, {"error": f"stand-in failed: {exc!r}"})
                break
        self._send(h, reply)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if isinstance(reply.body, (bytes, str)):
            data = reply.body.encode() if isinstance(reply.body, str) else reply.body
            ctype = "text/plain"
        else:
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
            ctype = "application/json"
        h.send_response(reply.status)
        headers = {"Content-Type": ctype, **reply.headers}
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def self_signed_tls(folder: str) -> tuple[ssl.SSLContext, str]:
    """A server TLS context for 127.0.0.1 and the path of its certificate (the CA to trust).

    For SDKs that insist on HTTPS (Azure sends bearer tokens over TLS only, MSAL wants an
    https authority), as the real endpoints are.
    """
    import datetime
    import ipaddress
    import os

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plait stand-in")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(folder, "standin.crt"), os.path.join(folder, "standin.key")
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
