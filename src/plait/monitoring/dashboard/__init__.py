"""The monitoring dashboard: ``plait dashboard DB`` serves it; ``plait report`` embeds it.

Needs the ``dashboard`` extra (Starlette, uvicorn; prometheus-client for ``/metrics``).
"""

from __future__ import annotations

import socket
import sys

from plait.monitoring.dashboard._app import create_app as create_app
from plait.monitoring.dashboard._app import page as page

__all__ = ["create_app", "page", "serve"]


def serve(target: str, host: str = "127.0.0.1", port: int = 8080, *,
          debug: bool = False) -> None:
    """Serve the dashboard of ``target``'s database until interrupted."""
    import uvicorn

    app = create_app(target)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    print(f"plait dashboard of {target} on http://{shown}:{sock.getsockname()[1]}/",
          file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="info" if debug else "warning",
                            access_log=debug)
    uvicorn.Server(config).run(sockets=[sock])
