"""Loading, waiting, cleanup, cancellation, events and run directories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, ThreadPoolExecutor, python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.dataflow.states import States
from plait.errors import (
    AppTimeout,
    ConfigurationError,
    DependencyError,
    NoDataFlowKernelError,
    TaskCancelled,
)


@python_app
def identity(x: Any) -> Any:
    return x


def cfg(run_dir: str, **kw: Any) -> Config:
    return Config(run_dir=run_dir, **kw)


def test_load_twice_is_a_clear_error(dfk: DataFlowKernel, run_dir: str) -> None:
    with pytest.raises(ConfigurationError, match=r"already been loaded.*cleanup"):
        plait.load(cfg(run_dir))
    assert plait.dfk() is dfk


def test_no_kernel_is_a_clear_error() -> None:
    plait.clear()
    with pytest.raises(NoDataFlowKernelError, match="Must first load config"):
        plait.dfk()


def test_load_without_config_uses_local_default(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    plait.clear()
    with plait.load() as dfk:
        assert identity(5).result(timeout=10) == 5
        assert list(dfk.executors) == ["threads", "_parsl_internal"]
    assert (tmp_path / "runinfo" / "000" / "plait.log").exists()


def test_with_block_waits_for_tasks_then_cleans_up(run_dir: str) -> None:
    done = []

    @python_app
    def slow() -> None:
        time.sleep(0.3)
        done.append(1)

    with plait.load(cfg(run_dir)) as dfk:
        futs = [slow() for _ in range(3)]
    assert done == [1, 1, 1] and all(f.done() for f in futs)
    assert dfk.cleanup_called
    with pytest.raises(NoDataFlowKernelError):
        plait.dfk()
    with pytest.raises(NoDataFlowKernelError, match="cleaned up"):
        python_app(lambda: 1, data_flow_kernel=dfk)()


def test_cleanup_is_idempotent_and_wait_for_current_tasks(run_dir: str) -> None:
    dfk = plait.load(cfg(run_dir))
    futs = [identity(i) for i in range(50)]
    dfk.wait_for_current_tasks(timeout=10)
    assert all(f.done() for f in futs)
    assert dfk.task_state_counts[States.exec_done] == 50
    dfk.cleanup()
    dfk.cleanup()


def test_two_kernels_in_one_process(run_dir: str) -> None:
    first = DataFlowKernel(cfg(run_dir))
    second = DataFlowKernel(cfg(run_dir))
    try:
        on_first = python_app(lambda: "first", data_flow_kernel=first)
        on_second = python_app(lambda: "second", data_flow_kernel=second)
        assert on_first().result(timeout=10) == "first"
        assert on_second().result(timeout=10) == "second"
        assert first.run_dir != second.run_dir
        assert os.path.basename(first.run_dir) == "000"
        assert os.path.basename(second.run_dir) == "001"
    finally:
        first.cleanup()
        second.cleanup()


def test_cancel_pending_task_fails_dependents(dfk: DataFlowKernel) -> None:
    gate = threading.Event()

    @python_app
    def blocked() -> int:
        assert gate.wait(10)
        return 1

    first = blocked()
    waiting = identity(first)
    after = identity(waiting)
    assert waiting.cancel()
    assert waiting.cancelled() and waiting.task_status() == "cancelled"
    gate.set()
    assert first.result(timeout=10) == 1
    with pytest.raises(DependencyError, match=f"task {waiting.tid} .identity.") as info:
        after.result(timeout=10)
    assert isinstance(info.value.__cause__, TaskCancelled)
    assert "cancelled before it ran" in str(info.value)


def test_cancel_queued_and_running_tasks(run_dir: str) -> None:
    gate = threading.Event()

    @python_app
    def blocked() -> int:
        assert gate.wait(10)
        return 1

    with plait.load(cfg(run_dir, executors=[ThreadPoolExecutor(max_threads=1)])):
        running, queued = blocked(), blocked()
        assert queued.cancel()  # still in the executor's queue
        assert not running.cancel() or running.cancelled()
        gate.set()
        assert queued.cancelled()


def test_events_report_every_transition(dfk: DataFlowKernel) -> None:
    events: list[Any] = []
    unsubscribe = dfk.subscribe(events.append)
    fut = identity(1)
    fut.result(timeout=10)
    dfk.wait_for_current_tasks(timeout=10)
    mine = [(e.old.name, e.new.name) for e in events if e.task_id == fut.tid]
    assert mine == [("pending", "pending"), ("pending", "launched"), ("launched", "exec_done")]
    unsubscribe()
    identity(2).result(timeout=10)
    assert all(e.task_id == fut.tid for e in events)


def test_failing_subscriber_does_not_break_the_run(dfk: DataFlowKernel) -> None:
    def bad(event: Any) -> None:
        raise RuntimeError("subscriber bug")

    dfk.subscribe(bad)
    assert identity(3).result(timeout=10) == 3


def test_python_walltime(dfk: DataFlowKernel) -> None:
    @python_app
    def spin(walltime: float = 0) -> None:
        while True:
            time.sleep(0.01)

    @python_app
    def quick() -> str:
        return "ok"

    start = time.monotonic()
    with pytest.raises(AppTimeout, match=r"spin exceeded walltime: 0\.3"):
        spin(walltime=0.3).result(timeout=20)
    assert time.monotonic() - start < 10
    assert quick(walltime=5).result(timeout=10) == "ok"


def test_run_dir_and_log(dfk: DataFlowKernel, run_dir: str) -> None:
    assert dfk.run_dir == os.path.join(os.path.abspath(run_dir), "000")
    assert os.path.exists(os.path.join(dfk.run_dir, "plait.log"))


SCRIPT = textwrap.dedent("""
    import sys, time, plait
    from plait import python_app, bash_app

    @python_app
    def sleepy():
        time.sleep(60)

    @bash_app
    def sleepy_bash():
        return "sleep 61.234"

    with plait.load(plait.Config(run_dir=sys.argv[1])):
        futs = [sleepy() for _ in range(4)] + [sleepy_bash()]
        print("READY", flush=True)
        futs[0].result()
""")


@pytest.mark.timeout(60)
def test_ctrl_c_exits_promptly(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "runinfo")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in (proc.stderr.read() if proc.stderr else "")
    leftovers = subprocess.run(["pgrep", "-f", "^sleep 61.234$"], capture_output=True, text=True)
    assert leftovers.stdout == ""


class BrokenExecutor(ThreadPoolExecutor):
    """A thread pool whose start() fails after starting its threads."""

    shut_down = False

    def start(self) -> None:
        super().start()
        raise RuntimeError("cannot reach the scheduler")

    def shutdown(self, wait: bool = True) -> None:
        BrokenExecutor.shut_down = True
        super().shutdown(wait)


def test_failed_start_undoes_what_was_started(run_dir: str) -> None:
    import logging

    plait.clear()
    handlers = list(logging.getLogger("plait").handlers)
    good = ThreadPoolExecutor(label="good")
    with pytest.raises(RuntimeError, match="cannot reach the scheduler"):
        plait.load(cfg(run_dir, executors=[good, BrokenExecutor(label="broken")]))
    assert BrokenExecutor.shut_down
    assert good._shut_down
    assert logging.getLogger("plait").handlers == handlers
    with pytest.raises(NoDataFlowKernelError):
        plait.dfk()
