"""GridEngineProvider against the real Grid Engine of services/gridengine.sh (qmaster + execd)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

import plait
import slurm_tasks as t
from plait import Config, python_app
from plait.errors import BlockCancelled, ScalingFailed, WalltimeExceeded
from plait.executors import HighThroughputExecutor
from plait.launchers import SimpleLauncher
from plait.providers import GridEngineProvider, JobState, SubmitException
from plait.transport import LocalTransport
from services import service
from slurm_jobs import WORKER_INIT
from waiting import Beacon, wait_until


def ge_env() -> dict[str, str]:
    """What Grid Engine's clients need: SGE_ROOT, SGE_CELL and the daemons' ports now."""
    s = service("gridengine")
    env = {k: s[k] for k in ("SGE_ROOT", "SGE_CELL", "SGE_QMASTER_PORT", "SGE_EXECD_PORT")}
    ports = Path(s.get("GE_PORTS_FILE", "/nonexistent"))
    if ports.exists():
        env.update(line.split("=", 1) for line in ports.read_text().split())
    return env


def ge_provider(tmp_path: Path, **options: object) -> GridEngineProvider:
    prov = GridEngineProvider(transport=LocalTransport(env=ge_env()),  # type: ignore[arg-type]
                              **{"launcher": SimpleLauncher(), "status_min_interval": 0,
                                 **options})
    prov.script_dir = str(tmp_path / "submit_scripts")
    return prov


def qstat_ids() -> set[str]:
    out = subprocess.run(["qstat"], env={**os.environ, **ge_env()}, capture_output=True,
                         text=True, timeout=20, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.split()[:1] != ["job-ID"]
            and line.strip() and not line.startswith("-")}


def test_job_script_directives(tmp_path: Path) -> None:
    text = ge_provider(tmp_path, queue="all.q", walltime="01:00:00").job_script("run-it")
    for line in ("#$ -S /bin/bash", "#$ -l h_rt=01:00:00", "#$ -q all.q", "run-it"):
        assert line in text.splitlines(), line


@pytest.mark.timeout(60)
def test_submit_status_cancel(tmp_path: Path) -> None:
    prov = ge_provider(tmp_path)
    job = prov.submit("sleep 300", 1, "plait.ge")
    assert job in qstat_ids()
    [status] = prov.status([job])
    assert status.state in (JobState.PENDING, JobState.RUNNING), status
    assert prov.cancel([job]) == [True]
    # qdel, then the accounting record: each status() asks qstat (and qacct) once
    assert any(prov.status([job])[0].terminal for _ in range(300)), prov.status([job])
    assert job not in qstat_ids()
    # qacct: failed 100 "assumedly after job", exit_status 137 (qdel's SIGKILL)
    assert prov.status([job])[0].state is JobState.CANCELLED, prov.status([job])


@pytest.mark.timeout(120)
def test_a_qdel_after_an_h_rt_kill_is_not_taken_for_its_cause(tmp_path: Path) -> None:
    # The pilot qdels a block whose managers it lost, to be sure it is gone; when the loss
    # was an h_rt kill, qstat may drop the job before qacct has its record. That qdel must
    # not make the loss a cancellation (it made the task's retry cost the user's retries).
    prov = ge_provider(tmp_path, walltime="00:00:05")
    job = prov.submit("sleep 300", 1, "plait.hrt")
    wait_until(lambda: job not in qstat_ids(), 90, f"h_rt to kill job {job}", interval=0.2)
    lost_at = time.monotonic()
    prov.cancel([job])  # what the pilot does after the loss; the job is already gone
    cause, words = wait_until(lambda: prov.explain_loss(job, lost_at=lost_at), 60,
                              f"Grid Engine's accounting record of job {job}", interval=0.5)
    assert cause == "walltime" and "h_rt" in words, words


def test_unknown_queue_is_grid_engines_own_message(tmp_path: Path) -> None:
    prov = ge_provider(tmp_path, queue="no-such.q")
    with pytest.raises(SubmitException, match="unknown queue"):
        prov.submit("true", 1, "plait.badq")


@pytest.mark.timeout(60)
def test_unknown_queue_fails_the_futures_with_qsubs_message_once(tmp_path: Path) -> None:
    provider = GridEngineProvider(queue="no-such.q", worker_init=WORKER_INIT,
                                  transport=LocalTransport(env=ge_env()))
    ex = HighThroughputExecutor(label="gebad", provider=provider, max_workers_per_node=1)
    where = python_app(t.where)
    plait.clear()
    started = time.monotonic()
    try:
        with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), retries=2,
                               strategy="simple")):
            fut = where(1)
            with pytest.raises(ScalingFailed, match="unknown queue"):
                fut.result(timeout=30)
            tries = len(fut.task_record.failed_tries or [])
    finally:
        plait.clear()
    assert time.monotonic() - started < 30
    # a refusal is the config's fault: no loop of resubmissions, no job in Grid Engine
    assert not provider.resources and tries <= 3


@pytest.mark.timeout(120)
def test_qdel_of_a_running_block_fails_its_task_naming_the_job(tmp_path: Path) -> None:
    provider = GridEngineProvider(worker_init=WORKER_INIT, transport=LocalTransport(
        env=ge_env()), status_polling_interval=2)
    ex = HighThroughputExecutor(label="geqdel", provider=provider, max_workers_per_node=1,
                                heartbeat_period=2, heartbeat_threshold=10)
    hang = python_app(t.first_try_hangs)
    beacon = Beacon(tmp_path)
    plait.clear()
    try:
        with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), retries=0,
                               strategy="simple")):
            fut = hang(str(tmp_path / "marker"), str(beacon.path))
            assert beacon.wait_lines(1, timeout=60)[0].startswith("started")
            [job] = list(provider.resources)
            subprocess.run(["qdel", job], env={**os.environ, **ge_env()}, check=True,
                           capture_output=True, timeout=20)
            deleted_at = time.monotonic()
            error = fut.exception(timeout=60)
            elapsed = time.monotonic() - deleted_at
    finally:
        plait.clear()
        beacon.close()
    assert isinstance(error, BlockCancelled), error
    assert f"job {job}" in str(error) and "cancelled outside plait" in str(error)
    assert elapsed < 30, elapsed
    assert not set(provider.resources) & qstat_ids(), "a block was left in Grid Engine"


@pytest.mark.timeout(150)
def test_pilot_block_killed_at_h_rt_is_retried_free(tmp_path: Path) -> None:
    provider = GridEngineProvider(worker_init=WORKER_INIT, walltime="00:00:20",
                                  transport=LocalTransport(env=ge_env()),
                                  status_polling_interval=2, max_blocks=2)
    ex = HighThroughputExecutor(label="ge", provider=provider, max_workers_per_node=2,
                                heartbeat_period=2, heartbeat_threshold=10)
    hang, where = python_app(t.first_try_hangs), python_app(t.where)
    plait.clear()
    try:
        with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"),
                               retries=0, strategy="simple")):
            assert where(5).result(timeout=60)[0] == 5
            fut = hang(str(tmp_path / "marker"), str(tmp_path / "started"))
            fut.result(timeout=120)
            [tried] = fut.task_record.failed_tries or []
    finally:
        plait.clear()
    assert isinstance(tried.exception, WalltimeExceeded), tried.exception
    assert "h_rt" in str(tried.exception) and fut.task_record.fail_cost == 0
    assert not set(provider.resources) & qstat_ids(), "a block was left in Grid Engine"
