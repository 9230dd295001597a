"""Every error survives pickling (it crosses processes) and says what to do."""

from __future__ import annotations

import pickle

import pytest

from plait import errors
from plait.dataflow.states import States
from plait.errors import (
    BashExitFailure,
    BlockFailed,
    ConfigurationError,
    DependencyError,
    InterchangeLost,
    ManagerLost,
    WorkerLost,
)

EXAMPLES = [
    ConfigurationError("retries", -1, "an int >= 0", "Set retries=0."),
    ConfigurationError("plain message"),
    errors.OptionalModuleMissing(["sqlalchemy"], "monitoring needs it"),
    BashExitFailure("app", 2, "/tmp/o", "/tmp/e"),
    errors.BashAppNoReturn("why"),
    errors.AppBadFormatting("why"),
    errors.MissingOutputs("why", ["/tmp/x"]),
    errors.BadStdStreamFile("why"),
    errors.BadCheckpoint("why"),
    errors.TaskCancelled(3, "app"),
    errors.SerializationError("arg x", "cannot pickle lock"),
    errors.DeserializationError("bad bytes"),
    errors.ExecutorError("htex", "why"),
    errors.InvalidResourceSpecification(["gpus"], "not accepted"),
    errors.VersionMismatch("table"),
    errors.CWLError("why"),
    errors.CWLValidationError("wf.cwl", "wf.cwl:3:5: bad"),
    errors.CWLInputError("wf", "x", "int", "is missing"),
    errors.CWLUnsupportedRequirement("tool", "DockerRequirement", "no engine"),
    errors.CWLStepFailed("step", ["sh", "-c", "exit 3"], 3, "/o", "/e", "exited 3", "boom"),
    InterchangeLost(None, "/tmp/ic.log", pid=7, hostname="h", unresponsive="silent for 8 s"),
    errors.BadLauncher("srun", "LocalProvider needs a plait.launchers.Launcher"),
    WorkerLost(1, "node1", task_id=5, exitcode=-9, log_path="/tmp/w.log"),
    WorkerLost(1, "node1", 5, -9, "/tmp/w.log", peak_rss=3 << 30, highest_rss_on_node=True),
    ManagerLost("m1", "node1", "heartbeats stopped"),
    BlockFailed("0", "workers never started", exitcode=3, stderr_tail="ImportError: x"),
    InterchangeLost(-9, "/tmp/ic.log"),
    errors.MonitoringDatabaseError("runinfo/monitoring.db", "no such file or directory"),
    errors.RadioRequiredError("htex"),
    errors.MonitoringRouterStartError("why"),
    errors.TaskKilledWorker(5, "app", "it was running on each of the 2 workers lost", 1,
                            "node1", -9, 2**30, "/tmp/w.log"),
    errors.InvalidTransition(5, States.exec_done, States.pending, "retry 1",
                             (("pending", "launched", "handed to its executor"),)),
    errors.WalltimeExceeded("0", "12", "00:01:00", "job 12 is TIMEOUT in slurm (TimeLimit)"),
    errors.NodeFailure("1", "13", "job 13 is NODE_FAIL in slurm"),
    errors.BlockCancelled("2", "14", "job 14 is CANCELLED in slurm"),
    errors.CommandTimeout("squeue", 10, "login1"),
    errors.TransportFailed("root@login1:22", "Permission denied (publickey)"),
]


@pytest.mark.parametrize("err", EXAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip_through_pickle(err: Exception) -> None:
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert str(copy) == str(err)


def test_worker_lost_names_signal_host_log_and_fix() -> None:
    text = str(WorkerLost(1, "node1", task_id=5, exitcode=-9, log_path="/tmp/w.log"))
    for part in ("task 5", "worker 1", "node1", "SIGKILL(-9)", "/tmp/w.log", "mem_per_worker"):
        assert part in text


def test_worker_lost_shows_peak_memory_and_keeps_the_facts_through_pickle() -> None:
    err = WorkerLost(1, "node1", 5, -9, "/tmp/w.log", peak_rss=3 << 30, highest_rss_on_node=True)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.peak_rss, copy.highest_rss_on_node) == (3 << 30, True)
    assert "SIGKILL(-9)" in str(copy) and "peak memory was 3.0 GiB, the most" in str(copy)
    small = WorkerLost(1, "node1", 5, -11, peak_rss=200 << 20)
    assert "SIGSEGV(-11)" in str(small) and "peak memory was 200 MiB." in str(small)
    assert "peak memory" not in str(WorkerLost(1, "node1", 5, -9))


def test_block_failed_carries_exit_code_and_stderr() -> None:
    text = str(BlockFailed("0", "workers never started", exitcode=3, stderr_tail="boom"))
    assert "block 0" in text and "exited with code 3" in text and "boom" in text


def test_configuration_error_names_field_value_and_allowed() -> None:
    text = str(ConfigurationError("retries", -1, "an int >= 0", "Set retries=0."))
    assert text == "retries=-1 is not valid: expected an int >= 0. Set retries=0."


def test_dependency_error_pickles_with_its_chain() -> None:
    root = ValueError("root")
    inner = DependencyError([(root, "task 1 (a)")], 2, "b")
    outer = DependencyError([(inner, "task 2 (b)")], 3, "c")
    copy = pickle.loads(pickle.dumps(outer))
    assert "Root cause, via task 2 (b) <- task 1 (a): ValueError: root" in str(copy)
