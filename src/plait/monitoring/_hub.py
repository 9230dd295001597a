"""MonitoringHub: what to record and where (Parsl's parameters), and one run's recording.

    DataFlowKernel ──start(dfk)──▶ MonitoringHub ──▶ _Session: Recorder + Sender + process
                   ──close()────▶                   (see _recorder and _dbproc)

The hub is configuration: a Config (and its hub) may be loaded many times, and each load
gets a fresh _Session (see ``_session``). The script imports no database library: SQLAlchemy
and the driver live in the database process.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import sys
import threading
import warnings
from typing import TYPE_CHECKING, Any

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait._validate import check_bool, check_number

if TYPE_CHECKING:
    from plait.dataflow._kernel import DataFlowKernel
    from plait.monitoring._session import _Session

log = logging.getLogger("plait.monitoring")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class MonitoringHub:
    """Record every task, try, state change and resource sample of a run into a database
    (Parsl's ``MonitoringHub``); give it as ``Config(monitoring=MonitoringHub(...))``.

    Args:
        hub_address, hub_port_range, hub_port: accepted for compatibility and unused (as in
            Parsl, where they are deprecated): a DeprecationWarning says so.
        workflow_name: recorded name of the run (default: the script's file name).
        workflow_version: recorded version (default: the start time).
        logging_endpoint: a SQLAlchemy URL (``sqlite:///path.db``,
            ``postgresql://user@host:port/db``); default ``sqlite:///<run_dir>/monitoring.db``
            in the Config's base run directory, shared by its runs.
        monitoring_debug: DEBUG logging in the database process's log.
        resource_monitoring_enabled: sample CPU, memory and I/O of tasks on workers of
            executors that support it (the pilot executor).
        resource_monitoring_interval: seconds between samples of a running task; 0 turns
            sampling off.
        live_retry: (plait) let the dashboard re-submit a failed task and its dependents
            while the run is live. The run then keeps each task's function and arguments
            until the task ends (not only until it is launched), and those of failed tasks
            until the run ends.

    Differences from Parsl: the database writer is one process per run fed through a pipe
    (no UDP, nothing lost when the script is killed); a database outage is logged once and
    the run goes on; the database has plait's own tables beside Parsl's.
    """

    def __init__(
        self, hub_address: Any = None, hub_port_range: Any = None, hub_port: Any = None,
        workflow_name: str | None = None, workflow_version: str | None = None,
        logging_endpoint: str | None = None, monitoring_debug: bool = False,
        resource_monitoring_enabled: bool = True, resource_monitoring_interval: float = 30,
        live_retry: bool = False,
    ) -> None:
        for name, value in (("hub_address", hub_address), ("hub_port_range", hub_port_range),
                            ("hub_port", hub_port)):
            if value is not None:
                warnings.warn(f"MonitoringHub({name}=...) is unused: plait's hub talks to "
                              "its database process over a pipe", DeprecationWarning,
                              stacklevel=2)
        self.hub_address, self.hub_port_range, self.hub_port = (hub_address, hub_port_range,
                                                                hub_port)
        self.workflow_name, self.workflow_version = workflow_name, workflow_version
        self.logging_endpoint = logging_endpoint
        self.monitoring_debug = monitoring_debug
        self.resource_monitoring_enabled = resource_monitoring_enabled
        self.resource_monitoring_interval = resource_monitoring_interval
        self.live_retry = live_retry
        self.validate()
        self._sessions: dict[str, _Session] = {}  # by run id: one per kernel loaded with it
        self._lock = threading.Lock()

    def validate(self) -> None:
        """Check every parameter; raise ConfigurationError naming the first bad one."""
        for name in ("workflow_name", "workflow_version"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigurationError(name, value, "a string or None")
        url = self.logging_endpoint
        if url is not None and (not isinstance(url, str) or not _URL.match(url)):
            raise ConfigurationError("logging_endpoint", url, "a SQLAlchemy URL such as "
                                     "'sqlite:///runinfo/monitoring.db' or "
                                     "'postgresql://user@host:5432/db', or None")
        check_number("resource_monitoring_interval", self.resource_monitoring_interval,
                     low=0, owner="MonitoringHub", kind="a number of seconds")
        for name in ("monitoring_debug", "resource_monitoring_enabled", "live_retry"):
            check_bool(name, getattr(self, name), owner="MonitoringHub")

    def __repr__(self) -> str:
        return (f"MonitoringHub(workflow_name={self.workflow_name!r}, "
                f"logging_endpoint={self.logging_endpoint!r}, "
                f"resource_monitoring_enabled={self.resource_monitoring_enabled!r}, "
                f"resource_monitoring_interval={self.resource_monitoring_interval!r})")

    # -- driven by the kernel -----------------------------------------------------------------
    def start(self, dfk: DataFlowKernel) -> None:
        """Begin recording ``dfk``'s run (the kernel calls this at load).

        Raises:
            OptionalModuleMissing: SQLAlchemy (``pip install 'plait[monitoring]'``) is not
                installed.
        """
        self.validate()
        if importlib.util.find_spec("sqlalchemy") is None:
            raise OptionalModuleMissing(["sqlalchemy"], "MonitoringHub needs SQLAlchemy "
                                        "(pip install 'plait[monitoring]')")
        from plait.monitoring._session import Settings, _Session

        url = self.logging_endpoint or _default_url(dfk.config.run_dir)
        session = _Session(Settings(self.workflow_name, self.workflow_version,
                                    self.monitoring_debug,
                                    self.resource_monitoring_interval
                                    if self.resource_monitoring_enabled else 0,
                                    self.live_retry), dfk, url)
        with self._lock:
            self._sessions[dfk.run_id] = session
        dfk.on_cleanup(self._kernel_cleaned_up)

    def _kernel_cleaned_up(self, dfk: DataFlowKernel) -> None:
        # Cleanup runs inside __exit__ when an exception (Ctrl-C, an error) ends the block:
        # that run was interrupted, not completed.
        self.close(interrupted=sys.exc_info()[0] is not None, dfk=dfk)

    def close(self, interrupted: bool = False, dfk: DataFlowKernel | None = None) -> None:
        """Record the end of ``dfk``'s run (every run, if None) and wait, bounded, until the
        database has all of it. The kernel calls this at cleanup."""
        with self._lock:
            if dfk is None:
                closing = list(self._sessions.values())
                self._sessions.clear()
            else:
                one = self._sessions.pop(dfk.run_id, None)
                closing = [one] if one is not None else []
        for session in closing:
            session.close(interrupted)

    def _current(self) -> _Session | None:
        with self._lock:
            return next(reversed(self._sessions.values()), None)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything recorded so far (by the latest run) is committed; False on
        timeout or outage."""
        session = self._current()
        return session.flush(timeout) if session is not None else False

    @property
    def url(self) -> str | None:
        """The database the latest run writes to (None when no run is being recorded)."""
        session = self._current()
        return session.url if session is not None else None

    def record(self, records: list[tuple[Any, ...]]) -> None:
        """Queue records from executors (resource samples, nodes, blocks); never blocks."""
        session = self._current()
        if session is not None:
            session.sender.put_many(records)


def _default_url(base_run_dir: str) -> str:
    return f"sqlite:///{os.path.abspath(os.path.join(base_run_dir, 'monitoring.db'))}"
