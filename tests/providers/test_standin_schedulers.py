"""PBS Pro, Torque, LSF, HTCondor, Flux and Cobalt providers against STAND-INS of their
commands (tests/standins/standin.py): none of these schedulers is packaged for Debian, so
their daemons cannot run here. Slurm and Grid Engine are tested against the real ones.

The providers run their real command lines; the stand-ins answer in the formats of each
scheduler's manual:
- PBS Professional: qsub(1B), qstat(1B) ``-f -F json`` and ``-x``, qdel(1B); job states
  B E F H M Q R S T U W X; Exit_status -29 = JOB_EXEC_KILL_WALLTIME (PBS Professional
  Reference Guide, "Job exit status codes").
- Torque: qsub, qstat default table (Job ID, Name, User, Time Use, S, Queue; states
  C E H Q R T W S), "qstat: Unknown Job Id Error <id>" (Adaptive Computing Torque
  Administrator Guide, qstat).
- LSF 10.1: "Job <id> is submitted to queue <q>." (bsub), ``bjobs -noheader -o "...
  delimiter='|'"``, "Job <id> is not found" (bjobs, LSB_BJOBS_CONSISTENT_EXIT_CODE),
  termination reasons TERM_RUNLIMIT / TERM_OWNER (IBM LSF, "Termination reasons displayed
  by bacct, bhist and bjobs"), job states PEND PSUSP RUN USUSP SSUSP DONE EXIT UNKWN WAIT ZOMBI.
- HTCondor: condor_submit's "N job(s) submitted to cluster C.", ``condor_q -af:jt``,
  condor_history, JobStatus 1-7 (HTCondor Manual, "Job ClassAd Attributes"), RemoveReason
  of a periodic_remove.
- Flux: flux-batch(1) prints the job id; flux-jobs(1) ``--format`` fields id.f58, status
  (PENDING RUNNING COMPLETED FAILED CANCELED TIMEOUT), exception.type; flux-cancel(1).
- Cobalt: ``qsub -n -t -A -q --mode script`` prints the job id; qstat's table with JobID
  and State (ALCF, "Cobalt Job Control"); ended jobs are not listed.
Rejection messages are passed through as the scheduler printed them; the tests check that
they reach the error, not their wording.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, python_app
from plait.errors import NodeFailure, ScalingFailed, WalltimeExceeded
from plait.executors import HighThroughputExecutor
from plait.launchers import SimpleLauncher, SingleNodeLauncher
from plait.providers import (
    CobaltProvider,
    CondorProvider,
    FluxProvider,
    JobState,
    LSFProvider,
    PBSProProvider,
    SubmitException,
    TorqueProvider,
)
from plait.providers._cluster import ClusterProvider
from plait.scaling._poller import Strategy
from plait.transport import LocalTransport
from waiting import Beacon

STANDIN = Path(__file__).resolve().parent.parent / "standins" / "standin.py"
TESTS_DIR = str(Path(__file__).resolve().parent.parent)
S = JobState


@dataclass
class Case:
    flavor: str
    make: Callable[..., ClusterProvider]
    commands: list[str]
    #: directive lines job_script() must contain (provider built with queue "short")
    directives: list[str]
    #: documented native states -> plait states
    states: dict[str, JobState]
    cancelled: JobState
    walltime: JobState = S.TIMEOUT
    #: explain_loss() cause after a walltime kill (None: the scheduler does not say)
    walltime_cause: str | None = "walltime"
    queue_kw: dict[str, Any] = field(default_factory=lambda: {"queue": "short"})


CASES = [
    Case("pbspro", PBSProProvider, ["qsub", "qstat", "qdel"],
         ["#PBS -l walltime=00:20:00", "#PBS -l select=1:ncpus=1", "#PBS -q short"],
         {"Q": S.PENDING, "W": S.PENDING, "T": S.PENDING, "M": S.PENDING, "R": S.RUNNING,
          "B": S.RUNNING, "E": S.RUNNING, "H": S.HELD, "S": S.HELD, "U": S.HELD,
          "F": S.COMPLETED, "X": S.COMPLETED},
         cancelled=S.COMPLETED),
    Case("torque", TorqueProvider, ["qsub", "qstat", "qdel"],
         ["#PBS -l walltime=00:20:00", "#PBS -l nodes=1:ppn=1", "#PBS -q short"],
         {"Q": S.PENDING, "W": S.PENDING, "T": S.PENDING, "R": S.RUNNING, "E": S.RUNNING,
          "H": S.HELD, "S": S.HELD, "C": S.COMPLETED},
         cancelled=S.COMPLETED, walltime=S.COMPLETED, walltime_cause=None),
    Case("lsf", LSFProvider, ["bsub", "bjobs", "bkill"],
         ["#BSUB -W 10", "#BSUB -nnodes 1", "#BSUB -q short"],
         {"PEND": S.PENDING, "WAIT": S.PENDING, "RUN": S.RUNNING, "PSUSP": S.HELD,
          "USUSP": S.HELD, "SSUSP": S.HELD, "DONE": S.COMPLETED, "EXIT": S.FAILED,
          "ZOMBI": S.FAILED, "UNKWN": S.UNKNOWN},
         cancelled=S.CANCELLED),
    Case("condor", CondorProvider, ["condor_submit", "condor_q", "condor_history",
                                    "condor_rm"],
         ["universe = vanilla", "executable = /bin/bash", "request_cpus = 1"],
         {"1": S.PENDING, "2": S.RUNNING, "5": S.HELD, "6": S.RUNNING, "7": S.HELD},
         cancelled=S.CANCELLED, queue_kw={}),
    Case("flux", FluxProvider, ["flux"],
         ["#flux: -N 1", "#flux: -t 600s", "#flux: --queue=short"],
         {"PENDING": S.PENDING, "RUNNING": S.RUNNING, "COMPLETED": S.COMPLETED,
          "FAILED": S.FAILED, "CANCELED": S.CANCELLED, "TIMEOUT": S.TIMEOUT},
         cancelled=S.CANCELLED),
    Case("cobalt", CobaltProvider, ["qsub", "qstat", "qdel"], ["# Cobalt block"],
         {"queued": S.PENDING, "starting": S.PENDING, "running": S.RUNNING,
          "exiting": S.RUNNING, "user_hold": S.HELD, "admin_hold": S.HELD},
         cancelled=S.COMPLETED, walltime=S.COMPLETED, walltime_cause=None),
]


class StandIn:
    """A stand-in scheduler: its commands on PATH (through the transport's env only)."""

    def __init__(self, flavor: str, commands: list[str], root: Path) -> None:
        self.flavor, self.root = flavor, root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        for name in [*commands, "standin-ctl"]:
            (self.bin / name).symlink_to(STANDIN)
        self.env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "PLAIT_STANDIN": flavor,
                    "PLAIT_STANDIN_DIR": str(root / "state")}

    def transport(self) -> LocalTransport:
        return LocalTransport(env=self.env)

    def ctl(self, *args: str) -> None:
        subprocess.run([str(self.bin / "standin-ctl"), *args], env={**os.environ, **self.env},
                       check=True, timeout=20)

    def stop_all(self) -> None:
        """Kill whatever jobs the stand-in still runs (test teardown)."""
        jobs = self.root / "state" / "jobs"
        found = [rec.stem for rec in jobs.glob("*.json")] if jobs.exists() else []
        if found:
            self.ctl("walltime", *found)


@pytest.fixture(params=CASES, ids=lambda c: c.flavor)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def standin(case: Case, tmp_path: Path) -> Iterator[StandIn]:
    scheduler = StandIn(case.flavor, case.commands, tmp_path / "standin")
    yield scheduler
    scheduler.stop_all()


def provider_for(case: Case, standin: StandIn, tmp_path: Path, **options: Any
                 ) -> ClusterProvider:
    prov = case.make(launcher=SimpleLauncher(), transport=standin.transport(),
                     status_min_interval=0, **options)
    prov.script_dir = str(tmp_path / "submit_scripts")
    return prov


def test_job_script_has_the_schedulers_directives(case: Case, standin: StandIn,
                                                  tmp_path: Path) -> None:
    prov = provider_for(case, standin, tmp_path, worker_init="module load x",
                        **case.queue_kw)
    text = prov.job_script("run-my-worker", 1, "plait.preview")
    for line in [*case.directives, "module load x", "run-my-worker"]:
        assert line in text, f"{line!r} not in:\n{text}"
    assert not Path(prov.script_dir or "").exists(), "job_script() must not write anything"


@pytest.mark.timeout(60)
def test_submit_status_cancel(case: Case, standin: StandIn, tmp_path: Path) -> None:
    prov = provider_for(case, standin, tmp_path)
    job = prov.submit("sleep 300", 1, "plait.t")
    assert Path(prov.resources[job]["script"]).exists()
    [status] = prov.status([job])
    assert status.state is S.RUNNING, status
    assert prov.cancel([job]) == [True]
    [status] = prov.status([job])
    assert status.state is case.cancelled and status.terminal, status
    journal = Path(prov.script_dir or "") / "plait-jobs.jsonl"
    assert '"event": "gone"' in journal.read_text()


def fake_id(case: Case, n: int) -> str:
    """A job id in the scheduler's own form."""
    return {"pbspro": f"{n}.standin", "torque": f"{n}.standin", "flux": f"fFake{n}"}.get(
        case.flavor, str(n))


def test_every_documented_state_is_mapped(case: Case, standin: StandIn,
                                          tmp_path: Path) -> None:
    prov = provider_for(case, standin, tmp_path)
    jobs = {fake_id(case, 500 + i): native for i, native in enumerate(case.states)}
    standin.ctl("fake", *(f"{job}={native}" for job, native in jobs.items()))
    for job in jobs:
        prov._track(job, f"plait.{job}", "/nonexistent/x.submit")
    statuses = prov.status(list(jobs))  # one status command for all of them
    got = {jobs[j]: s.state for j, s in zip(jobs, statuses, strict=True)}
    assert got == case.states


def test_unknown_state_counts_as_still_there(case: Case, standin: StandIn, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    prov = provider_for(case, standin, tmp_path)
    job = prov.submit("sleep 300", 1, "plait.odd")
    standin.ctl("state", job, "Zq9")
    [status] = prov.status([job])
    assert status.state is S.UNKNOWN and not status.terminal
    assert "Zq9" in caplog.text


@pytest.mark.parametrize("case", [c for c in CASES if c.queue_kw], indirect=True,
                         ids=lambda c: c.flavor)  # HTCondor has no queues to refuse
def test_rejected_submission_carries_the_schedulers_message(case: Case, standin: StandIn,
                                                            tmp_path: Path) -> None:
    standin.ctl("queues", "other")
    prov = provider_for(case, standin, tmp_path, **case.queue_kw)
    with pytest.raises(SubmitException) as info:
        prov.submit("true", 1, "plait.bad")
    assert info.value.retcode not in (None, 0)
    assert "short" in str(info.value) or "queue" in str(info.value).lower()
    assert not prov.resources


@pytest.mark.parametrize("case", [c for c in CASES if c.queue_kw], indirect=True,
                         ids=lambda c: c.flavor)
@pytest.mark.timeout(60)
def test_rejected_submission_fails_the_futures_once(case: Case, standin: StandIn,
                                                    tmp_path: Path) -> None:
    """Through the pilot executor, at the default status_polling_interval: the waiting
    task fails with ScalingFailed carrying the scheduler's refusal, with no resubmission loop."""
    standin.ctl("queues", "other")
    provider = case.make(launcher=SimpleLauncher(), transport=standin.transport(),
                         **case.queue_kw)
    ex = HighThroughputExecutor(label="refused", provider=provider, max_workers_per_node=1)
    plait.clear()
    try:
        with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), retries=2,
                               strategy="simple")):
            fut = python_app(noop)()
            with pytest.raises(ScalingFailed) as info:
                fut.result(timeout=30)
    finally:
        plait.clear()
    assert "short" in str(info.value) or "queue" in str(info.value).lower(), info.value
    assert not provider.resources


def test_walltime_kill_is_explained(case: Case, standin: StandIn, tmp_path: Path) -> None:
    prov = provider_for(case, standin, tmp_path)
    job = prov.submit("sleep 300", 1, "plait.wall")
    standin.ctl("walltime", job)
    [status] = prov.status([job])
    assert status.state is case.walltime and status.terminal, status
    why = prov.explain_loss(job)
    assert why is not None
    assert why[0] == (case.walltime_cause or "ended"), why


def test_job_the_scheduler_forgot_is_gone(case: Case, standin: StandIn,
                                          tmp_path: Path) -> None:
    prov = provider_for(case, standin, tmp_path)
    known = prov.submit("sleep 300", 1, "plait.known")
    prov._track("999999" if case.flavor != "flux" else "fNoSuchJob", "ghost", "/x/ghost")
    statuses = prov.status([known, *[j for j in prov.resources if j != known]])
    assert statuses[0].state is S.RUNNING
    assert statuses[1].state is S.COMPLETED and statuses[1].terminal


@pytest.mark.parametrize("flavor, commands, make, forced, error", [
    ("pbspro", ["qsub", "qstat", "qdel"], PBSProProvider, None, WalltimeExceeded),
    # bjobs(1): ZOMBI, the job's execution host became unreachable after it was killed
    ("lsf", ["bsub", "bjobs", "bkill"], LSFProvider, "ZOMBI", NodeFailure),
], ids=["pbspro-walltime", "lsf-node-failure"])
@pytest.mark.timeout(90)
def test_pilot_on_a_stand_in_retries_a_block_loss_for_free(
        tmp_path: Path, flavor: str, commands: list[str], make: Callable[..., ClusterProvider],
        forced: str | None, error: type[Exception]) -> None:
    """End to end on a stand-in: blocks run; the scheduler ends the block under a task (at its
    walltime, or its node lost) and the task is retried on a new block without a retry."""
    scheduler = StandIn(flavor, commands, tmp_path / "standin")
    worker_init = (f"export PATH={os.path.dirname(sys.executable)}:$PATH; "
                   f"export PYTHONPATH={TESTS_DIR}")
    provider = make(worker_init=worker_init, transport=scheduler.transport(),
                    launcher=SingleNodeLauncher(), status_polling_interval=2, max_blocks=2)
    ex = HighThroughputExecutor(label=flavor, provider=provider, max_workers_per_node=2,
                                heartbeat_period=1, heartbeat_threshold=5)

    import slurm_tasks

    hang = python_app(slurm_tasks.first_try_hangs)
    beacon = Beacon(tmp_path)
    plait.clear()
    try:
        with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"),
                               retries=0, strategy="simple")):
            fut = hang(str(tmp_path / "marker"), beacon.path)
            assert beacon.wait_lines(1, timeout=60)[0].startswith("started")
            [job] = list(provider.resources)
            if forced:
                scheduler.ctl("state", job, forced)
            scheduler.ctl("walltime", job)  # the block's processes are killed
            fut.result(timeout=60)
            [tried] = fut.task_record.failed_tries or []
    finally:
        plait.clear()
        beacon.close()
        scheduler.stop_all()
    assert isinstance(tried.exception, error), tried.exception
    assert f"job {job}" in str(tried.exception)
    assert fut.task_record.fail_cost == 0
    assert len(provider.resources) == 2


def noop() -> None:
    return None


@pytest.mark.timeout(60)
def test_blocks_in_a_state_plait_cannot_parse_never_scale_past_max_blocks(
        tmp_path: Path) -> None:
    """Every block reports a state no manual lists; the queue stays full of tasks, and six
    scaling rounds of the "simple" strategy still submit max_blocks jobs and no more (Parsl
    counts such blocks as not running and keeps submitting, #2255)."""
    pbs = StandIn("pbspro", ["qsub", "qstat", "qdel"], tmp_path / "standin")
    provider = PBSProProvider(
        transport=pbs.transport(), launcher=SimpleLauncher(), init_blocks=0, max_blocks=3,
        scheduler_options="#standin: hold", status_polling_interval=0, status_min_interval=0)
    ex = HighThroughputExecutor(label="odd", provider=provider, max_workers_per_node=1)
    strategy = Strategy(strategy="simple", max_idletime=600)
    plait.clear()
    dfk = plait.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"),
                            strategy="none", exit_mode="cleanup"))
    try:
        futures = [python_app(noop)() for _ in range(12)]
        submitted = []
        for _ in range(6):
            strategy.strategize([ex])
            for job in provider.resources:
                pbs.ctl("state", job, "Zq9")
            submitted.append(len(provider.resources))
        states = {s.state for s in provider.status(list(provider.resources))}
        assert not any(f.done() for f in futures)
    finally:
        dfk.cleanup()
        plait.clear()
        pbs.stop_all()
    assert submitted == [3] * 6, submitted
    assert states == {S.UNKNOWN}
