"""One run's recording: the database process, the reader of its answers, the Sender and
the Recorder subscribed to the kernel, and the executors wired to send samples and events.

    kernel ──events──▶ Recorder ──▶ Sender ══ pipe ══▶ database process (``_dbproc``)
    executors ──samples, node/block events──▶ Recorder / Sender
    reader thread ◀══ pipe ══ database process: warnings, flush answers
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from plait._version import __version__

if TYPE_CHECKING:
    from plait.dataflow._kernel import DataFlowKernel
    from plait.monitoring._recorder import Recorder, Sender

log = logging.getLogger("plait.monitoring")
RETRY_OF_ENV = "PLAIT_RETRY_OF"  # set by `plait retry`: the run this one retries
CLOSE_S = 120.0  # how long cleanup waits for the database process to write its backlog
STALL_S = 60.0  # ... and for it to take any input at all (a SQLite busy wait is 30 s)


@dataclass(frozen=True)
class Settings:
    """What a session takes from its MonitoringHub."""

    workflow_name: str | None
    workflow_version: str | None
    debug: bool
    sample_every: float  # seconds between resource samples; 0: no sampling
    live_retry: bool


def _finite_int(value: Any) -> int:
    """An int for an integer column; 0 for an unknown (None or infinite) amount."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


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

    def __init__(self, hub: Settings, dfk: DataFlowKernel, url: str) -> None:
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
        if hub.debug:
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
        self.recorder: Recorder = Recorder(dfk.tasks, self.sender)
        self.control = self._start_control(dfk) if hub.live_retry else None
        self.sender.put(self._workflow_record(hub, dfk, self.control))
        self._receivers = self._wire_executors(hub, dfk)
        self._unsubscribe = dfk.subscribe(self.recorder.on_event)
        from plait.dataflow._summary import use_counter

        use_counter(dfk, self.recorder.counter)  # dfk.task_summary() per app, from the start
        log.info("monitoring run %s into %s (database process pid %d, log %s)", dfk.run_id,
                 url, self.proc.pid, self.log_path)

    def _start_control(self, dfk: DataFlowKernel) -> Any:
        """The control socket through which the dashboard re-submits failed tasks."""
        import tempfile

        from plait.monitoring._live_retry import ControlServer, LiveRetry

        retry = LiveRetry(dfk.submit)
        self.recorder.live_retry = retry
        path = os.path.join(dfk.run_dir, "control.sock")
        if len(path) > 100:  # a Unix socket's path has at most 107 bytes
            self._control_dir = tempfile.mkdtemp(prefix="plait-")
            path = os.path.join(self._control_dir, "control.sock")
        return ControlServer(path, retry)

    def _wire_executors(self, hub: Settings, dfk: DataFlowKernel) -> list[Any]:
        """Before the executors start: tell those that sample resources where to send them
        (their radio; HTEXRadio by default) and how often."""
        from plait.monitoring.radios import HTEXRadio

        receivers: list[Any] = []
        for ex in dfk.config.executor_list:  # blocks and nodes, whatever the sampling
            ex.monitoring_events = partial(self._executor_event, ex.label)
        interval = hub.sample_every
        if interval <= 0:
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

    def _executor_event(self, label: str, kind: str, fields: tuple[Any, ...]) -> None:
        """A block or node event from executor ``label`` (see Executor.monitoring_events)."""
        from plait.monitoring import _records as R

        now = time.time()
        if kind == "block":
            block_id, job_id, status = fields
            self.sender.put((R.BLOCK, now, label, str(block_id),
                             None if job_id is None else str(job_id), status))
        elif kind == "node":
            uid, block_id, host, cpus, memory, workers, python, active = fields
            self.sender.put((R.NODE, now, label, str(host), str(uid), str(block_id),
                             _finite_int(cpus), _finite_int(memory), bool(active),
                             int(workers or 0), str(python or "")))

    @staticmethod
    def _workflow_record(hub: Settings, dfk: DataFlowKernel,
                         control: Any) -> tuple[Any, ...]:
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
                json.dumps(sys.argv), os.getcwd(), os.environ.get(RETRY_OF_ENV),
                control.path if control is not None else None, os.getpid(),
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
        if self.control is not None:
            self.control.stop()
            if getattr(self, "_control_dir", None):
                os.rmdir(self._control_dir)
        for receiver in self._receivers:
            receiver.stop()
        for ex in self.dfk.config.executor_list:  # the next load wires them afresh
            ex.monitoring_events = None
            if getattr(ex, "monitoring_sink", None) == self.recorder.resources:
                ex.monitoring_sink = ex.monitoring_spec = None
        counts = self.dfk.task_state_counts
        done = counts[States.exec_done] + counts[States.memo_done]
        failed = counts[States.failed] + counts[States.dep_fail]
        self._closing = True
        self.sender.put((R.WORKFLOW_END, time.time(), done, failed,
                         "interrupted" if interrupted else "completed", self.sender.dropped))
        started = time.monotonic()
        if not self.sender.close(STALL_S):
            log.warning("monitoring: the database process took no input for %.0f s; "
                        "stopping it (see %s)", STALL_S, self.log_path)
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
