"""Radios: how resource samples travel from the workers' nodes to the monitoring hub.

    manager ──sample records──▶ sender (from the radio's spec) ──▶ receiver in the script
        HTEXRadio       over the pilot executor's own channel (interchange → executor)
        UDPRadio        UDP datagrams, each signed with HMAC (a key made per run)
        FilesystemRadio files in <run_dir>/monitor-fs-radio/new (written to tmp/, renamed)
    receiver ──▶ executor.monitoring_samples(records) ──▶ hub (task and try ids) ──▶ database

A radio is configuration (Parsl's RadioConfig): ``spec(run_dir)`` is the JSON-able part the
manager needs to send (its senders are in ``plait._sampling``, which executors may import),
``start_receiver`` the script's side. Records are marshal-encoded tuples (the pilot checks
both ends run the same Python, so marshal's format matches).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import marshal
import os
import secrets
import select
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from plait._errors import ConfigurationError

log = logging.getLogger("plait.monitoring.radios")
Deliver = Callable[[list[tuple[Any, ...]]], None]
FS_POLL_S = 1.0  # a file system has no event to wait on here: look this often


class Receiver(ABC):
    """The script's end of a radio; ``stop()`` ends its thread."""

    @abstractmethod
    def stop(self) -> None: ...


class RadioConfig:
    """How an executor's workers send monitoring records (Parsl's ``RadioConfig``)."""

    kind = "base"

    def spec(self, run_dir: str) -> dict[str, Any]:
        """What the sending side (a pilot manager) needs, as JSON-able data."""
        return {"kind": self.kind}

    def start_receiver(self, run_dir: str, deliver: Deliver) -> Receiver | None:
        """Start receiving records for this run; None when the executor delivers them."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class HTEXRadio(RadioConfig):
    """Records travel with the pilot executor's results (the default for it)."""

    kind = "htex"


class MultiprocessingQueueRadio(RadioConfig):
    """For executors in the script's own process (threads), which need no transport."""

    kind = "local"


class UDPRadio(RadioConfig):
    """Records as UDP datagrams to ``address:port`` (a free port if None), each signed with
    an HMAC (``hmac_digest``) under a key made for the run; unsigned ones are dropped.
    ``atexit_timeout`` and ``debug`` are accepted for compatibility with Parsl."""

    kind = "udp"

    def __init__(self, *, port: int | None = None, atexit_timeout: int = 3,
                 address: str, debug: bool = False, hmac_digest: str = "sha512") -> None:
        if not isinstance(address, str) or not address:
            raise ConfigurationError("address", address, "the address managers can reach "
                                     "this host at, e.g. '127.0.0.1' for local blocks")
        if port is not None and (not isinstance(port, int) or not 0 <= port < 65536):
            raise ConfigurationError("port", port, "a port number, or None for a free one")
        if hmac_digest not in hashlib.algorithms_available:
            raise ConfigurationError("hmac_digest", hmac_digest, "a hashlib algorithm name "
                                     "such as 'sha512'")
        self.port, self.atexit_timeout, self.address = port, atexit_timeout, address
        self.debug, self.hmac_digest = debug, hmac_digest
        self._key = b""
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        return f"UDPRadio(address={self.address!r}, port={self.port!r})"

    def spec(self, run_dir: str) -> dict[str, Any]:
        if self._bound_port is None:
            raise ConfigurationError("UDPRadio: start_receiver() must run before spec()")
        return {"kind": self.kind, "address": self.address, "port": self._bound_port,
                "key": self._key.hex(), "digest": self.hmac_digest}

    def start_receiver(self, run_dir: str, deliver: Deliver) -> Receiver:
        self._key = secrets.token_bytes(32)
        receiver = _UDPReceiver(self.address, self.port or 0, self._key, self.hmac_digest,
                                deliver)
        self._bound_port = receiver.port
        return receiver


class FilesystemRadio(RadioConfig):
    """Records as files in ``<run_dir>/monitor-fs-radio`` (for nodes that share a file
    system with the script but cannot reach it over the network)."""

    kind = "filesystem"

    def spec(self, run_dir: str) -> dict[str, Any]:
        return {"kind": self.kind, "dir": os.path.join(os.path.abspath(run_dir),
                                                       "monitor-fs-radio")}

    def start_receiver(self, run_dir: str, deliver: Deliver) -> Receiver:
        return _FilesystemReceiver(self.spec(run_dir)["dir"], deliver)


# -- the script's side --------------------------------------------------------------------------
class _Threaded(Receiver):
    """A receiver thread that a socketpair wakes to stop."""

    def __init__(self, name: str) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._guarded, name=name, daemon=True)

    def _guarded(self) -> None:
        try:
            self._run()
        except Exception:
            log.exception("monitoring radio receiver failed; samples stop here")

    @abstractmethod
    def _run(self) -> None: ...

    def stop(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(10)
        self._wake_r.close()
        self._wake_w.close()


class _UDPReceiver(_Threaded):
    def __init__(self, address: str, port: int, key: bytes, digest: str,
                 deliver: Deliver) -> None:
        super().__init__("plait-radio-udp")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.port: int = self.sock.getsockname()[1]
        self._key, self._digest, self._deliver = key, digest, deliver
        self._size = hashlib.new(digest).digest_size
        self.rejected = 0
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self.sock, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                data = self.sock.recv(65536)
                mac, body = data[:self._size], data[self._size:]
                if not hmac.compare_digest(mac, hmac.new(self._key, body,
                                                         self._digest).digest()):
                    self.rejected += 1  # not from this run's managers: drop, say once
                    if self.rejected == 1:
                        log.warning("dropped a monitoring datagram with a bad signature")
                    continue
                self._deliver(marshal.loads(body))
        finally:
            self.sock.close()


class _FilesystemReceiver(_Threaded):
    def __init__(self, directory: str, deliver: Deliver) -> None:
        super().__init__("plait-radio-fs")
        self.new = os.path.join(directory, "new")
        os.makedirs(self.new, exist_ok=True)
        os.makedirs(os.path.join(directory, "tmp"), exist_ok=True)
        self._deliver = deliver
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.drain()
            ready, _, _ = select.select([self._wake_r], [], [], FS_POLL_S)
            if ready:
                self.drain()
                return

    def drain(self) -> None:
        for name in sorted(os.listdir(self.new)):
            path = os.path.join(self.new, name)
            try:
                with open(path, "rb") as fh:
                    records = marshal.load(fh)
                os.unlink(path)
            except (OSError, ValueError, EOFError):  # half-removed, or not ours
                continue
            self._deliver(records)
