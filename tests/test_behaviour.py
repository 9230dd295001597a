"""One behaviour suite, run against every executor: threads, the local pilot (HTEX) with and
without CurveZMQ encryption, and the pilot in a block of the real Slurm (services/slurm.sh)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import behaviour_tasks as t
import plait
from plait import Config, File, ThreadPoolExecutor, bash_app, join_app, python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.errors import AppTimeout, BashExitFailure, DependencyError, JoinError

HERE = os.path.dirname(os.path.abspath(__file__))

add, total, fail, fail_once = (python_app(f) for f in (t.add, t.total, t.fail, t.fail_once))
spin, write, read, pid = (python_app(f) for f in (t.spin, t.write, t.read, t.pid))
shell = bash_app(t.shell)


@join_app
def fan_out(n: int) -> Any:
    return [add(i, i) for i in range(n)]


def make_config(kind: str, run_dir: str) -> Config:
    if kind == "threads":
        executor: Any = ThreadPoolExecutor(max_threads=4)
    elif kind == "htex-slurm":
        from plait.executors import HighThroughputExecutor
        from plait.providers import SlurmProvider
        from slurm_jobs import WORKER_INIT, slurm

        slurm()
        executor = HighThroughputExecutor(
            label="htex_slurm", max_workers_per_node=2, heartbeat_period=2,
            heartbeat_threshold=10, provider=SlurmProvider(
                worker_init=WORKER_INIT, walltime="00:10:00", exclusive=False,
                status_polling_interval=5))
    else:
        from plait.executors import HighThroughputExecutor
        from plait.providers import LocalProvider

        provider = LocalProvider(
            init_blocks=1, max_blocks=1,
            worker_init=f"export PYTHONPATH={HERE}${{PYTHONPATH:+:$PYTHONPATH}}")
        executor = HighThroughputExecutor(label="htex", max_workers_per_node=2,
                                          provider=provider, heartbeat_period=2,
                                          heartbeat_threshold=10,
                                          encrypted=kind == "htex-encrypted")
    return Config(executors=[executor], run_dir=run_dir, retries=1, strategy="none")


@pytest.fixture(scope="module",
                params=["threads", "htex-encrypted", "htex-plain", "htex-slurm"])
def kernel(request: Any, tmp_path_factory: Any) -> Iterator[DataFlowKernel]:
    plait.clear()
    run_dir = str(tmp_path_factory.mktemp(request.param) / "runinfo")
    dfk = plait.load(make_config(request.param, run_dir))
    try:
        yield dfk
    finally:
        dfk.cleanup()
        plait.clear()


def test_results_and_dependencies(kernel: DataFlowKernel) -> None:
    a, b = add(1, 2), add(3, b=4)
    assert add(a, b).result(timeout=60) == 10
    assert total(inputs=[a, b, 5]).result(timeout=60) == 15


def test_user_exception_unchanged_and_dependents_fail(kernel: DataFlowKernel) -> None:
    failed = fail("boom")
    with pytest.raises(ValueError, match="boom"):
        failed.result(timeout=60)
    with pytest.raises(DependencyError, match="ValueError: boom"):
        add(failed, 1).result(timeout=60)


def test_retry_then_success(kernel: DataFlowKernel, tmp_path: Path) -> None:
    fut = fail_once(str(tmp_path / "marker"))
    assert fut.result(timeout=60) == "second try"
    assert [str(r.exception) for r in fut.task_record.tries] == ["first try fails", "None"]


def test_bash_app(kernel: DataFlowKernel, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    assert shell("echo hi", stdout=str(out)).result(timeout=60) == 0
    assert out.read_text() == "hi\n"
    with pytest.raises(BashExitFailure, match="exit code 4"):
        shell("exit 4").result(timeout=60)


def test_files_flow_between_apps(kernel: DataFlowKernel, tmp_path: Path) -> None:
    written = write("payload", outputs=[File(str(tmp_path / "f.txt"))])
    assert read(inputs=[written.outputs[0]]).result(timeout=60) == "payload"


def test_join_app(kernel: DataFlowKernel) -> None:
    assert fan_out(3).result(timeout=60) == [0, 2, 4]

    @join_app
    def broken() -> Any:
        return [fail("inner")]

    with pytest.raises(JoinError, match="inner"):
        broken().result(timeout=60)


def test_walltime(kernel: DataFlowKernel) -> None:
    with pytest.raises(AppTimeout, match="exceeded walltime"):
        spin(walltime=0.5).result(timeout=60)
    assert add(1, 1).result(timeout=60) == 2


def test_runs_where_configured(kernel: DataFlowKernel) -> None:
    pids = {f.result(timeout=60) for f in [pid() for _ in range(20)]}
    in_process = pids == {os.getpid()}
    assert in_process == ("threads" in kernel.executors)
