"""CurveZMQ keys for the pilot executor: one server and one client key pair per executor.

The keys live in ``<run_dir>/<label>/certificates`` (mode 0700, secret files 0600). The
interchange accepts only managers presenting the client key found there; the executor's own
loopback sockets use the same server key.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import zmq
import zmq.auth


def create_certificates(cert_dir: str) -> str:
    """Create the directory (owner-only) and both key pairs unless they exist; returns it."""
    os.makedirs(cert_dir, mode=0o700, exist_ok=True)
    os.chmod(cert_dir, 0o700)
    for name in ("server", "client"):
        if not os.path.exists(os.path.join(cert_dir, f"{name}.key_secret")):
            zmq.auth.create_certificates(cert_dir, name)
    for entry in os.listdir(cert_dir):
        os.chmod(os.path.join(cert_dir, entry), 0o600)
    return cert_dir


def _load(cert_dir: str, name: str, secret: bool) -> tuple[bytes, bytes | None]:
    suffix = ".key_secret" if secret else ".key"
    public, private = zmq.auth.load_certificate(os.path.join(cert_dir, name + suffix))
    return public, private


def make_server(sock: zmq.Socket[Any], cert_dir: str) -> None:
    """Make ``sock`` a CurveZMQ server with the executor's server key."""
    public, secret = _load(cert_dir, "server", True)
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_server = True


def make_client(sock: zmq.Socket[Any], cert_dir: str) -> None:
    """Make ``sock`` a CurveZMQ client that trusts only the executor's server key."""
    public, secret = _load(cert_dir, "client", True)
    server_public, _ = _load(cert_dir, "server", False)
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_serverkey = server_public


class _DenialLog:
    """pyzmq's authenticator logs decisions at DEBUG; a refused key deserves a WARNING."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.warned = -1e9

    def debug(self, msg: str, *args: Any) -> None:
        text = msg % args if args else msg
        # A refused manager reconnects every 100 ms: warn once a minute, not each time.
        if "DENIED" in text and time.monotonic() - self.warned > 60:
            self.warned = time.monotonic()
            self.log.warning("refused a connection: %s (wrong or unknown key)", text)
        else:
            self.log.debug("%s", text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.log, name)


def start_authenticator(ctx: zmq.Context[Any], cert_dir: str) -> Any:
    """A ZAP handler thread admitting only clients whose public key is in ``cert_dir``."""
    from zmq.auth.thread import ThreadAuthenticator

    auth = ThreadAuthenticator(ctx, log=_DenialLog(logging.getLogger("plait.interchange.auth")))
    auth.start()
    auth.configure_curve(domain="*", location=cert_dir)
    return auth
