"""MonitoringHub: what to record and where (Parsl's parameters), and one run's recording.

    DataFlowKernel ──start(dfk)──▶ MonitoringHub ──▶ _Session: Recorder + Sender + process
                   ──close()────▶                   (see _recorder and _dbproc)

The hub is configuration: a Config (and its hub) may be loaded many times, and each load
gets a fresh _Session. The script imports no database library: SQLAlchemy and the driver
live in the database process.
"""

from __future__ import annotations

import getpass
import importlib.util
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait._version import __version__

if TYPE_CHECKING:
    from plait.dataflow._kernel import DataFlowKernel
    from plait.monitoring._recorder import Recorder, Sender

log = logging.getLogger("plait.monitoring")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
RETRY_OF_ENV = "PLAIT_RETRY_OF"  # set by `plait retry`: the run this one retries
CLOSE_S = 120.0  # how long cleanup waits for the database process to write its backlog


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

    Differences from Parsl: the database writer is one process per run fed through a pipe
    (no UDP, nothing lost when the script is killed); a database outage is logged once and
    the run goes on; the database has plait's own tables beside Parsl's.
    """

    def __init__(
        self, hub_address: Any = None, hub_port_range: Any = None, hub_port: Any = None,
        workflow_name: str | None = None, workflow_version: str | None = None,
        logging_endpoint: str | None = None, monitoring_debug: bool = False,
        resource_monitoring_enabled: bool = True, resource_monitoring_interval: float = 30,
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
        interval = self.resource_monitoring_interval
        if (not isinstance(interval, (int, float)) or isinstance(interval, bool)
                or interval < 0):
            raise ConfigurationError("resource_monitoring_interval", interval,
                                     "a number of seconds >= 0")

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
        url = self.logging_endpoint or _default_url(dfk.config.run_dir)
        session = _Session(self, dfk, url)
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


def _script_name() -> str:
    """The file name of the first stack frame outside plait (Parsl's default name)."""
    frame = sys._getframe(1)
    plait_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(plait_dir) and not path.startswith("<frozen"):
            return os.path.basename(path)
        frame = frame.f_back  # type: ignore[assignment]
    return "unnamed"


class _Session:
    """One run's recording: the database process, its reader thread, the Sender, the
    Recorder subscribed to the kernel."""

    def __init__(self, hub: MonitoringHub, dfk: DataFlowKernel, url: str) -> None:
        from plait.monitoring._recorder import Recorder, Sender

        self.url, self.dfk = url, dfk
        self.log_path = os.path.join(dfk.run_dir, "monitoring.log")
        self._flushed: dict[int, list[Any]] = {}  # token -> [answered, committed ok]
        self._tokens = 0
        self._closing = False
        self._told_dead = False
        self._lock = threading.Lock()
        args = [sys.executable, "-m", "plait.monitoring._dbproc", url, dfk.run_id,
                self.log_path]
        if hub.monitoring_debug:
            args.append("--debug")
        with open(self.log_path, "ab") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, close_fds=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        fd = os.dup(self.proc.stdin.fileno())  # the Sender owns (and closes) its own copy
        self.proc.stdin.close()
        self.sender: Sender = Sender(fd, self._dead)
        self._reader = threading.Thread(target=self._read, name="plait-monitoring-reader",
                                        daemon=True)
        self._reader.start()
        self.sender.put(self._workflow_record(hub, dfk))
        self.recorder: Recorder = Recorder(dfk.tasks, self.sender)
        self._receivers = self._wire_executors(hub, dfk)
        self._unsubscribe = dfk.subscribe(self.recorder)
        from plait.dataflow._summary import use_counter

        use_counter(dfk, self.recorder.counter)  # dfk.task_summary() per app, from the start
        log.info("monitoring run %s into %s (database process pid %d, log %s)", dfk.run_id,
                 url, self.proc.pid, self.log_path)

    def _wire_executors(self, hub: MonitoringHub, dfk: DataFlowKernel) -> list[Any]:
        """Before the executors start: tell those that sample resources where to send them
        (their radio; HTEXRadio by default) and how often."""
        from plait.monitoring.radios import HTEXRadio

        receivers: list[Any] = []
        interval = hub.resource_monitoring_interval
        if not hub.resource_monitoring_enabled or interval <= 0:
            return receivers
        for ex in dfk.config.executor_list:
            if not ex.monitor_resources():
                continue
            radio = getattr(ex, "remote_monitoring_radio", None) or HTEXRadio()
            receiver = radio.start_receiver(dfk.run_dir, ex.monitoring_samples)
            if receiver is not None:
                receivers.append(receiver)
            ex.monitoring_sink = self.recorder.resources
            ex.monitoring_spec = {"interval": interval, "radio": radio.spec(dfk.run_dir)}
        return receivers

    @staticmethod
    def _workflow_record(hub: MonitoringHub, dfk: DataFlowKernel) -> tuple[Any, ...]:
        from plait.monitoring import _records as R

        now = time.time()
        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry (containers)
            user = str(os.getuid())
        executors = json.dumps([{"label": ex.label, "type": type(ex).__name__}
                                for ex in dfk.config.executor_list])
        return (R.WORKFLOW, dfk.run_id, hub.workflow_name or _script_name(),
                hub.workflow_version or time.strftime("%Y-%m-%d %H:%M:%S",
                                                      time.localtime(now)),
                now, socket.gethostname(), user, dfk.run_dir,
                os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else None,
                json.dumps(sys.argv), os.getcwd(), os.environ.get(RETRY_OF_ENV), os.getpid(),
                sys.version.split()[0], __version__, executors)

    # -- the database process's answers ------------------------------------------------------
    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        for line in stdout:  # ends when the process exits
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "warning" in message:
                log.warning("%s (details in %s)", message["warning"], self.log_path)
            elif "flushed" in message:
                with self._lock:
                    waiter = self._flushed.pop(message["flushed"], None)
                if waiter is not None:
                    waiter[1] = bool(message.get("ok"))
                    waiter[0].set()
        if not self._closing:
            self._dead("it exited")
        with self._lock:
            for waiter in self._flushed.values():
                waiter[0].set()
            self._flushed.clear()

    def _dead(self, how: str) -> None:
        """The database process is gone (its pipe broke, or it exited): say so once, stop
        recording, and let the run go on."""
        with self._lock:
            if self._told_dead:
                return
            self._told_dead = True
        self.sender.dead = True
        self._unsubscribe_quietly()
        log.warning("the monitoring database process (pid %d) is gone: %s; the run goes on "
                    "unmonitored (see %s)", self.proc.pid, how, self.log_path)

    def _unsubscribe_quietly(self) -> None:
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()

    # -- flush and close ----------------------------------------------------------------------
    def flush(self, timeout: float) -> bool:
        from plait.monitoring import _records as R

        if self.sender.dead:
            return False
        waiter: list[Any] = [threading.Event(), False]  # set when answered; committed?
        with self._lock:
            self._tokens += 1
            token = self._tokens
            self._flushed[token] = waiter
        self.sender.put((R.FLUSH, token))
        return bool(waiter[0].wait(timeout) and waiter[1])

    def close(self, interrupted: bool) -> None:
        from plait.dataflow._states import States
        from plait.monitoring import _records as R

        self._unsubscribe_quietly()
        for receiver in self._receivers:
            receiver.stop()
        for ex in self.dfk.config.executor_list:  # the next load wires them afresh
            if getattr(ex, "monitoring_sink", None) == self.recorder.resources:
                ex.monitoring_sink = ex.monitoring_spec = None
        counts = self.dfk.task_state_counts
        done = counts[States.exec_done] + counts[States.memo_done]
        failed = counts[States.failed] + counts[States.dep_fail]
        self._closing = True
        self.sender.put((R.WORKFLOW_END, time.time(), done, failed,
                         "interrupted" if interrupted else "completed", self.sender.dropped))
        started = time.monotonic()
        if not self.sender.close(CLOSE_S):
            log.warning("monitoring: the database process took no input for %.0f s; "
                        "stopping it (see %s)", CLOSE_S, self.log_path)
            self.proc.kill()
        try:
            self.proc.wait(max(1.0, CLOSE_S - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            log.warning("monitoring: the database process did not finish writing within "
                        "%.0f s; stopping it (see %s)", CLOSE_S, self.log_path)
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        log.info("monitoring of run %s closed in %.2f s", self.dfk.run_id,
                 time.monotonic() - started)
