"""What usage tracking sends, and the sender that can never hold up a run.

Messages are JSON objects after one protocol byte (``b"1"``), sent by UDP. Nothing sent
identifies a user, host, path or value: a random id per kernel (to match a start with its
end), versions, the platform, class names of the configured components, and counts.
The destination is ``$PLAIT_USAGE_TRACKING_ENDPOINT`` (``host:port``, e.g. a site's own
collector). plait runs no collector of its own: without that variable nothing is sent, not
even a name lookup, whatever the level.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from plait._version import __version__

if TYPE_CHECKING:
    from plait._config import Config

# The kernel (which imports this package) is only duck-typed here: config, run counts and
# on_cleanup; annotating it would make an import cycle.
DataFlowKernel = Any

log = logging.getLogger("plait.usage_tracking")
ENDPOINT_ENV = "PLAIT_USAGE_TRACKING_ENDPOINT"
PROTOCOL = b"1"
TIMEOUT_S = 5.0


def endpoint() -> tuple[str, int] | None:
    """Where messages go (``$PLAIT_USAGE_TRACKING_ENDPOINT``), or None: nowhere."""
    value = os.environ.get(ENDPOINT_ENV)
    if not value:
        return None
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def components(config: Config) -> list[str]:
    """Class names of the configured executors, providers, launchers and memoizer."""
    names = []
    for ex in config.executor_list:
        names.append(type(ex).__name__)
        provider = getattr(ex, "provider", None)
        if provider is not None:
            names.append(type(provider).__name__)
            launcher = getattr(provider, "launcher", None)
            if launcher is not None:
                names.append(type(launcher).__name__)
    for extra in (config.memoizer, config.monitoring):
        if extra is not None:
            names.append(type(extra).__name__)
    return names


def messages(config: Config, level: int | None = None, *, correlator: str = "<random id>",
             tasks: int = 0, failed: int = 0, seconds: float = 0.0) -> dict[str, Any]:
    """The start and end messages ``config`` sends at ``level`` (default: its own level);
    an empty dict when nothing is sent."""
    level = config.usage_tracking if level is None else level
    if not level:
        return {}
    start: dict[str, Any] = {"correlator": correlator, "plait_v": __version__,
                             "python_v": platform.python_version(),
                             "platform.system": platform.system(),
                             "platform.machine": platform.machine(), "tracking_level": level,
                             "test": bool(os.environ.get("PLAIT_TESTING"))}
    if config.project_name:
        start["project_name"] = config.project_name
    if level >= 2:
        start["components"] = components(config)
    out = {"start": start}
    if level >= 3:
        out["end"] = {"correlator": correlator, "tasks": tasks, "failed": failed,
                      "execution_time": round(seconds, 3)}
    return out


class UsageTracker:
    """Sends a kernel's usage messages, each on a daemon thread: a slow or absent network
    costs the run nothing (the thread gives up after ``TIMEOUT_S``)."""

    def __init__(self, dfk: DataFlowKernel) -> None:
        self.config = dfk.config
        self.level = int(dfk.config.usage_tracking)  # older Parsl configs give True
        self.correlator = str(uuid.uuid4())
        self.started = time.monotonic()
        self.threads: list[threading.Thread] = []
        self.destination = endpoint()
        if self.destination is None:
            log.info("usage tracking is on (level %d) but %s is not set: nothing is sent",
                     self.level, ENDPOINT_ENV)
            return
        start = messages(self.config, self.level, correlator=self.correlator).get("start")
        if start is not None:
            self._send(start)
            dfk.on_cleanup(self.end)

    def end(self, dfk: DataFlowKernel) -> None:
        """Send the end message (level 3): task counts and run time."""
        if self.level < 3 or self.destination is None:
            return
        from plait.dataflow._states import States

        counts = dfk.task_state_counts
        end = messages(self.config, self.level, correlator=self.correlator,
                       tasks=sum(counts.values()),
                       failed=counts[States.failed] + counts[States.dep_fail],
                       seconds=time.monotonic() - self.started)["end"]
        self._send(end)

    def _send(self, message: dict[str, Any]) -> None:
        payload = PROTOCOL + json.dumps(message).encode()
        thread = threading.Thread(target=_deliver, args=(payload, self.destination),
                                  name="plait-usage", daemon=True)
        thread.start()
        self.threads.append(thread)


def _deliver(payload: bytes, destination: tuple[str, int]) -> None:
    host, port = destination
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(TIMEOUT_S)
            sock.sendto(payload, address)
    except Exception as exc:  # no network, no such host: usage tracking just does not happen
        log.debug("usage message not sent: %s", exc)
    else:
        log.debug("usage message sent to %s:%s", host, port)
