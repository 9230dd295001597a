"""The pilot executor in blocks of the real Slurm (services/slurm.sh): workflows, faults and
leftovers.

The walltime scenario takes 60-95 s (Slurm's shortest walltime is a minute, and it checks
limits every 30 s), so it runs in its own process from the start of this module while the
other tests run; the last test collects its report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import plait
import slurm_tasks as t
from plait import Config, ThreadPoolExecutor, bash_app, python_app
from plait.errors import BlockCancelled, ScalingFailed
from plait.executors import HighThroughputExecutor
from plait.launchers import SrunLauncher
from plait.providers import SlurmProvider
from plait.providers._journal import cleanup_journal, journals_under, read_journal
from slurm_jobs import TESTS_DIR, WORKER_INIT, slurm, squeue_state, wait_state
from waiting import Beacon

where, hang = python_app(t.where), python_app(t.first_try_hangs)
ENDED = {"CANCELLED", "COMPLETED", "TIMEOUT", "FAILED", ""}


def pilot(label: str, **provider_options: Any) -> HighThroughputExecutor:
    options: dict[str, Any] = {"worker_init": WORKER_INIT, "exclusive": False,
                               "status_polling_interval": 5, **provider_options}
    return HighThroughputExecutor(label=label, max_workers_per_node=2, heartbeat_period=2,
                                  heartbeat_threshold=10, provider=SlurmProvider(**options))


def script(name: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, os.path.join(TESTS_DIR, name), *args],
                            cwd=TESTS_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def walltime_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    slurm()
    work = tmp_path_factory.mktemp("walltime")
    proc = script("slurm_walltime_run.py", str(work / "report.json"), str(work / "runinfo"),
                  str(work))
    yield proc, work
    if proc.poll() is None:  # the walltime test did not run (-k) or timed out
        proc.kill()
        proc.wait()
        for journal in journals_under(str(work / "runinfo")):
            cleanup_journal(journal, force=True)


@pytest.fixture(autouse=True)
def _start_walltime_scenario_first(walltime_run: tuple[Any, Path]) -> None:
    """Every test here needs the scenario running, so it starts before the first of them."""


@pytest.fixture
def run_dir(tmp_path: Path) -> str:
    plait.clear()
    return str(tmp_path / "runinfo")


@pytest.mark.timeout(120)
def test_workflow_on_two_node_blocks_and_threads(run_dir: str, tmp_path: Path) -> None:
    slurm_ex = pilot("slurm", nodes_per_block=2, max_blocks=2, launcher=SrunLauncher())
    config = Config(executors=[slurm_ex, ThreadPoolExecutor(label="threads", max_threads=2)],
                    run_dir=run_dir, strategy="simple")

    @python_app(executors=["threads"])
    def tally(*parts: tuple[int, str, str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, _, node in parts:
            counts[node] = counts.get(node, 0) + 1
        return counts

    @bash_app(executors=["slurm"])
    def node_name(stdout: str = "") -> str:
        return "echo $SLURMD_NODENAME"

    @python_app(executors=["slurm"])
    def on_slurm(x: int) -> tuple[int, str, str]:
        import time as _time

        import slurm_tasks

        _time.sleep(0.2)  # long enough for the tasks to spread over managers
        return slurm_tasks.where(x)

    with plait.load(config):
        parts = [on_slurm(i) for i in range(40)]
        counts = tally(*parts).result(timeout=90)
        node_name(stdout=str(tmp_path / "node.out")).result(timeout=60)
        results = [p.result(timeout=10) for p in parts]
    assert sorted(r[0] for r in results) == list(range(40))
    assert sum(counts.values()) == 40
    assert len(counts) >= 2, f"a 2-node block ran tasks on {counts} only"
    assert (tmp_path / "node.out").read_text().strip() in counts
    jobs = {r[1] for r in results}
    assert jobs <= set(slurm_ex.provider.resources)
    for job in slurm_ex.provider.resources:  # cleanup cancelled every block
        wait_state(job, ENDED, timeout=30)
    # ... and waited for Slurm to confirm it: the journal leaves nothing for `plait cleanup`
    [journal] = journals_under(run_dir)
    assert read_journal(journal).jobs == {}


@pytest.mark.timeout(120)
def test_scancel_mid_task_fails_it_naming_the_job_and_retry_survives(
        run_dir: str, tmp_path: Path) -> None:
    beacon = Beacon(tmp_path)
    ex = pilot("scancel", max_blocks=1)
    with plait.load(Config(executors=[ex], run_dir=run_dir, retries=1, strategy="simple")):
        fut = hang(str(tmp_path / "marker"), str(beacon.path))
        [line] = beacon.wait_lines(1, timeout=60)
        job = line.split()[1]
        subprocess.run(["scancel", job], check=True, timeout=20)
        cancelled_at = time.monotonic()
        retried_on = fut.result(timeout=90)
        elapsed = time.monotonic() - cancelled_at
        record = fut.task_record
    beacon.close()
    [first] = record.failed_tries or []
    assert isinstance(first.exception, BlockCancelled)
    assert f"job {job}" in str(first.exception) and "cancelled outside plait" in str(
        first.exception)
    assert record.fail_cost == 1, "a cancelled block is charged to the user's retries"
    assert retried_on != job and elapsed < 60


@pytest.mark.timeout(60)
def test_bad_partition_fails_futures_with_sbatchs_message_once(run_dir: str) -> None:
    # Parsl's default polling interval (60 s): the refusal must not wait for the next poll
    ex = pilot("badpart", partition="no-such-partition", status_polling_interval=60)
    started = time.monotonic()
    with plait.load(Config(executors=[ex], run_dir=run_dir, retries=2, strategy="simple")):
        fut = where(1)
        with pytest.raises(ScalingFailed, match="invalid partition specified"):
            fut.result(timeout=30)
        tries = len(fut.task_record.failed_tries or [])
    assert time.monotonic() - started < 30
    # the refusal is a configuration error: no silent loop of resubmissions
    assert not ex.provider.resources
    assert tries <= 3


@pytest.mark.timeout(90)
def test_ctrl_c_cancels_the_running_block(tmp_path: Path) -> None:
    beacon = Beacon(tmp_path)
    proc = script("slurm_hang_run.py", str(tmp_path / "runinfo"), str(tmp_path), "with")
    try:
        job = beacon.wait_lines(1, timeout=60)[0].split()[1]
        assert squeue_state(job) == "RUNNING"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        beacon.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert wait_state(job, ENDED, timeout=30) in ENDED
    journal = (tmp_path / "runinfo" / "000" / "submit_scripts" / "plait-jobs.jsonl")
    assert journal.exists()


@pytest.mark.timeout(120)
def test_crashed_runs_jobs_are_cancelled_by_cleanup_and_by_the_next_run(
        tmp_path: Path) -> None:
    runinfo = tmp_path / "runinfo"

    def crash(work: Path) -> str:
        """Run a script whose block waits in the queue, and SIGKILL it: no cleanup runs."""
        work.mkdir()
        proc = script("slurm_hang_run.py", str(runinfo), str(work), "queued")
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().decode()  # bounded by the test's timeout
            assert line.startswith("submitted "), line
            job = line.split()[1]
        finally:
            proc.kill()
            proc.wait()
        assert squeue_state(job) == "PENDING"
        return job

    first = crash(tmp_path / "a")
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "plait"), "cleanup",
                          str(runinfo / "000")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"cancelled: job(s) {first}" in out.stdout
    wait_state(first, ENDED, timeout=30)

    second = crash(tmp_path / "b")
    # the next run in the same runinfo/ cancels what the crashed one left
    plait.clear()
    ex = pilot("next")
    with plait.load(Config(executors=[ex], run_dir=str(runinfo), strategy="none")):
        assert where(3).result(timeout=60)[0] == 3
    wait_state(second, ENDED, timeout=30)
    # nothing is left: this process's run (002, still "running") ended its block itself
    again = subprocess.run([os.path.join(os.path.dirname(sys.executable), "plait"),
                            "cleanup", "--force", str(runinfo)], capture_output=True,
                           text=True, timeout=60)
    assert "cancelled" not in again.stdout and again.returncode == 0, again.stdout


@pytest.mark.timeout(240)
def test_walltime_block_drains_and_its_lost_task_is_retried_free(
        walltime_run: tuple[Any, Path]) -> None:
    proc, work = walltime_run
    out, _ = proc.communicate(timeout=220)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    report = json.loads((work / "report.json").read_text())
    # the task submitted after block 0 began draining ran on a new block
    assert report["after_drain_job"] != report["first_job"], report
    # the hung task was lost at the walltime, said so, and was retried without a retry
    assert report["first_error_type"] == "WalltimeExceeded", report
    assert "hit its walltime 00:01:00" in report["first_error"]
    assert f"job {report['first_job']}" in report["first_error"]
    assert report["fail_cost"] == 0 and report["retried_on"] != report["first_job"]
    assert report["timeout_to_result"] < 90, report
    for job in report["jobs"]:
        wait_state(job, ENDED, timeout=30)
