"""SlurmProvider against the real Slurm of services/slurm.sh (slurmctld + three slurmd)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from plait._errors import ConfigurationError
from plait.launchers import SimpleLauncher
from plait.providers import JobState, SlurmProvider, SubmitException
from plait.providers._slurm import SLURM_STATES
from plait.transport import LocalTransport
from slurm_jobs import slurm, wait_state


class CountingTransport(LocalTransport):
    """A LocalTransport that records every command it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: list[str] = []

    def run(self, cmd: str, timeout: float | None = None,
            env: dict[str, str] | None = None) -> tuple[int, str, str]:
        self.commands.append(cmd)
        return super().run(cmd, timeout, env)


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[SlurmProvider]:
    slurm()
    prov = SlurmProvider(launcher=SimpleLauncher(), walltime="00:05:00", exclusive=False,
                         transport=CountingTransport(), status_min_interval=0)
    prov.script_dir = str(tmp_path / "submit_scripts")
    yield prov
    prov.cancel(list(prov.resources))
    prov.close()  # as the executor does: waits for Slurm to confirm, so the journal is done


def test_job_script_has_parsl_directives(tmp_path: Path) -> None:
    prov = SlurmProvider(partition="debug", account="proj", qos="low", constraint="haswell",
                         cores_per_node=4, mem_per_node=8, walltime="01:30:30",
                         scheduler_options="#SBATCH --comment=hi", worker_init="module load x")
    prov.script_dir = str(tmp_path)
    text = prov.job_script("run-worker --block 0", 2, "plait.x")
    for line in ("#SBATCH --job-name=plait.x", "#SBATCH --time=91", "#SBATCH --nodes=1",
                 "#SBATCH --ntasks-per-node=2", "#SBATCH --partition=debug",
                 "#SBATCH --account=proj", "#SBATCH --qos=low", "#SBATCH --constraint=haswell",
                 "#SBATCH --exclusive", "#SBATCH --mem=8g", "#SBATCH --cpus-per-task=2",
                 "export PARSL_CORES=4", "export PARSL_MEMORY_GB=8", "#SBATCH --comment=hi",
                 'export JOBNAME="plait.x"', "module load x", "run-worker --block 0",
                 f"#SBATCH --output={tmp_path}/plait.x.submit.stdout"):
        assert line in text.splitlines(), line
    # no command given: a placeholder, and nothing is written
    assert "worker command goes here" in prov.job_script()
    assert list(tmp_path.iterdir()) == []


def test_every_squeue_state_is_mapped() -> None:
    # squeue(1), JOB STATE CODES: every long name the manual lists
    manual = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "CONFIGURING", "COMPLETING", "DEADLINE",
              "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "PENDING", "PREEMPTED", "RUNNING",
              "RESV_DEL_HOLD", "REQUEUE_FED", "REQUEUE_HOLD", "REQUEUED", "RESIZING",
              "REVOKED", "SIGNALING", "SPECIAL_EXIT", "STAGE_OUT", "STOPPED", "SUSPENDED",
              "TIMEOUT"}
    assert set(SLURM_STATES) == manual
    assert SLURM_STATES["TIMEOUT"] is JobState.TIMEOUT
    assert SLURM_STATES["NODE_FAIL"] is JobState.FAILED


@pytest.mark.timeout(60)
def test_submit_status_cancel_and_journal(provider: SlurmProvider) -> None:
    job = provider.submit("sleep 300", 1, "plait.test")
    script = Path(provider.resources[job]["script"])
    assert script.parent == Path(provider.script_dir or "") and script.exists()
    wait_state(job, {"RUNNING"})
    [status] = provider.status([job])
    assert status.state is JobState.RUNNING and f"job {job} is RUNNING" in (status.message or "")
    assert provider.cancel([job]) == [True]
    wait_state(job, {"CANCELLED"})
    [status] = provider.status([job])
    assert status.state is JobState.CANCELLED and provider.cancelled_by_plait(job)
    events = [json.loads(line) for line in
              (Path(provider.script_dir or "") / "plait-jobs.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == ["owner", "submitted", "gone"]
    assert events[1]["job_id"] == job and events[2]["state"] == "CANCELLED"


@pytest.mark.timeout(60)
def test_one_squeue_for_all_jobs_and_polls_are_throttled(provider: SlurmProvider) -> None:
    jobs = [provider.submit("sleep 300", 1, f"plait.batch{i}") for i in range(3)]
    transport = provider.transport
    assert isinstance(transport, CountingTransport)
    transport.commands.clear()
    provider.status(jobs)
    [squeue] = transport.commands
    assert squeue.startswith("squeue") and ",".join(jobs) in squeue
    provider.status_min_interval = 60
    for _ in range(5):
        provider.status(jobs[:1])
    assert len(transport.commands) == 1, "status() within status_min_interval asked again"


def test_bad_partition_is_slurms_own_message(provider: SlurmProvider) -> None:
    provider.partition = "no-such-partition"
    with pytest.raises(SubmitException, match="invalid partition specified") as info:
        provider.submit("true", 1, "plait.bad")
    assert info.value.retcode == 1 and not provider.resources


def test_walltime_over_partition_limit_is_slurms_own_message(provider: SlurmProvider) -> None:
    provider.partition = "short"          # MaxTime=1 minute in services/slurm.sh
    with pytest.raises(SubmitException, match="time limit"):
        provider.submit("true", 1, "plait.toolong")


def test_malformed_walltime_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="HH:MM:SS"):
        SlurmProvider(walltime="10 minutes")


def test_unknown_state_counts_as_still_there(provider: SlurmProvider,
                                             caplog: pytest.LogCaptureFixture) -> None:
    provider._track("77", "plait.odd", "/nonexistent/odd.submit")
    status = provider._to_status("77", "BRAND_NEW_STATE", "")
    assert status.state is JobState.UNKNOWN and not status.terminal
    assert "BRAND_NEW_STATE" in caplog.text and "still there" in caplog.text
    del provider.resources["77"]


def test_job_gone_from_squeue_is_ended(provider: SlurmProvider) -> None:
    # a job id Slurm never had (or forgot after MinJobAge): squeue answers "Invalid job id"
    provider._track("999999", "plait.ghost", "/nonexistent/ghost.submit")
    [status] = provider.status(["999999"])
    assert status.state is JobState.COMPLETED and "no longer listed" in (status.message or "")
