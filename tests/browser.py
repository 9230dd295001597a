"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, and a dashboard served
by uvicorn in a thread: the real parts the dashboard and report tests use."""

from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium() -> Iterator[Any]:
    """A browser context on a fresh profile; Playwright never downloads a browser here."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="plait-chromium-") as profile, \
            sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=FLAGS, headless=True,
            viewport={"width": 1300, "height": 1000})
        try:
            yield context
        finally:
            context.close()


@contextmanager
def dashboard(target: str) -> Iterator[str]:
    """Serve the dashboard of ``target`` on a free loopback port; yield its base URL."""
    import uvicorn

    from plait.monitoring.dashboard import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until uvicorn accepts them
    server = uvicorn.Server(uvicorn.Config(create_app(target), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="test-dashboard", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
