"""LocalProvider with real processes: states, exit codes, stderr, cancel, walltime."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import psutil
import pytest

from plait._errors import ConfigurationError
from plait.launchers import BadLauncher, SimpleLauncher, SingleNodeLauncher
from plait.providers import JobState, LocalProvider, SubmitException
from plait.providers._procs import session_processes, wait_gone

from .conftest import Beacon, make_gate, status_of, wait_block_exit

pytestmark = pytest.mark.timeout(60)


def test_running_then_completed(provider: LocalProvider, tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    job = provider.submit(f'echo "hello from $JOBNAME"; read code < {gate}; exit $code', 1,
                          "plait.test.block-0")
    assert status_of(provider, job).state is JobState.RUNNING
    with open(gate, "w") as fh:
        fh.write("0\n")
    wait_block_exit(job)
    st = status_of(provider, job)
    assert st.state is JobState.COMPLETED and st.exit_code == 0 and st.terminal
    assert st.stdout is not None and "hello from plait.test.block-0." in st.stdout
    script = provider.resources[job]["script"]
    assert Path(f"{script}.ec").read_text().strip() == "0"
    assert st.stdout_path == f"{script}.stdout" and st.stderr_path == f"{script}.stderr"


def test_failed_has_exit_code_and_stderr_tail(provider: LocalProvider) -> None:
    job = provider.submit('echo "first line" >&2; echo "fatal: no such model" >&2; exit 3', 1)
    wait_block_exit(job)
    st = status_of(provider, job)
    assert st.state is JobState.FAILED and st.exit_code == 3
    assert st.message is not None
    assert "exited with code 3" in st.message and "fatal: no such model" in st.message
    assert st.stderr is not None and "first line" in st.stderr
    assert st.stderr_path is not None and st.stderr_path in st.message
    assert pickle.loads(pickle.dumps(st)) == st


def test_copies_per_block(provider: LocalProvider) -> None:
    job = provider.submit('echo "copy $1"', 3)
    wait_block_exit(job)
    st = status_of(provider, job)
    assert st.state is JobState.COMPLETED
    assert sorted((st.stdout or "").split("\n")) == ["", "copy 1", "copy 2", "copy 3"]


def tree_command(beacon: Beacon) -> str:
    # three sleeps per copy: a child, a daemon-like grandchild, and one under a SIGTERM-proof
    # shell; then "ready" on the beacon
    return (f"sleep 300 & (sleep 301 &); bash -c 'trap \"\" TERM; sleep 302 & "
            f"echo ready > {beacon.path}; wait' & echo ready > {beacon.path}; wait")


def test_cancel_kills_the_whole_tree(provider: LocalProvider, beacon: Beacon) -> None:
    job = provider.submit(tree_command(beacon), 2)
    sid = int(job)
    beacon.wait_lines(4)
    tree = session_processes(sid)
    # wrapper, script, 2 copies each with 3 sleepers (maybe not yet exec'd) and a TERM-proof
    # shell
    assert len(tree) >= 10, tree
    assert sum("trap" in " ".join(p.cmdline()) for p in tree) >= 2
    start = time.monotonic()
    assert provider.cancel([job]) == [True]
    took = time.monotonic() - start
    # some processes ignore SIGTERM: they need the SIGKILL after the 0.5 s grace
    assert took < 5
    assert not wait_gone(tree, timeout=5)
    for proc in tree:
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    st = status_of(provider, job)
    assert st.state is JobState.CANCELLED and st.terminal
    assert provider.cancel([job]) == [True]  # idempotent


def test_worker_init_failure_is_failed_with_its_stderr(tmp_path: Path) -> None:
    prov = LocalProvider(worker_init="source /nonexistent/env/bin/activate",
                         launcher=SimpleLauncher(debug=False))
    prov.script_dir = str(tmp_path)
    job = prov.submit("echo worker-started", 1)
    wait_block_exit(job)
    st = status_of(prov, job)
    assert st.state is JobState.FAILED and st.exit_code == 1
    assert st.message is not None and "worker_init failed" in st.message
    assert "/nonexistent/env/bin/activate" in st.message
    assert "worker-started" not in (st.stdout or "")


def test_walltime_stops_block_as_timeout(tmp_path: Path) -> None:
    prov = LocalProvider(walltime="00:00:01", cancel_grace=0.5,
                         launcher=SingleNodeLauncher(debug=False))
    prov.script_dir = str(tmp_path)
    job = prov.submit("trap '' TERM; sleep 300", 2)  # must be SIGKILLed after the grace
    wait_block_exit(job, timeout=15)
    st = status_of(prov, job)
    assert st.state is JobState.TIMEOUT, st
    assert st.message is not None and "walltime 00:00:01" in st.message
    assert not session_processes(int(job))


def test_externally_killed_block_is_failed(provider: LocalProvider) -> None:
    job = provider.submit("sleep 300", 1)
    psutil.Process(int(job)).kill()
    wait_block_exit(job)
    st = status_of(provider, job)
    assert st.state is JobState.FAILED and st.exit_code == -9
    assert st.message is not None and "SIGKILL" in st.message
    assert not session_processes(int(job))  # the orphaned sleep was cleaned up


def test_leftover_processes_are_stopped_when_block_ends(provider: LocalProvider) -> None:
    job = provider.submit("sleep 300 > /dev/null 2>&1 &", 1)
    wait_block_exit(job)
    assert status_of(provider, job).state is JobState.COMPLETED
    assert not session_processes(int(job))


def test_script_contents(provider: LocalProvider) -> None:
    provider.worker_init = "export PLAIT_INIT=1"
    job = provider.submit("echo $PLAIT_INIT", 1, "my.block")
    wait_block_exit(job)
    script = Path(provider.resources[job]["script"])
    text = script.read_text()
    assert script.name.startswith("my.block.") and script.suffix == ".sh"
    assert text.index("export PLAIT_INIT=1") < text.index("export JOBNAME=my.block.")
    assert "WORKERCOUNT=1" in text
    assert status_of(provider, job).stdout == "1\n"


def test_unknown_jobs(provider: LocalProvider) -> None:
    st = status_of(provider, "999999")
    assert st.state is JobState.MISSING and st.message is not None and "999999" in st.message
    assert provider.cancel(["999999"]) == [False]


def test_submit_without_script_dir_says_what_to_do() -> None:
    prov = LocalProvider()
    with pytest.raises(SubmitException, match="script_dir is not set"):
        prov.submit("true", 1, "b")


def test_validation() -> None:
    with pytest.raises(BadLauncher, match="class, not an instance"):
        LocalProvider(launcher=SingleNodeLauncher)  # type: ignore[arg-type]
    with pytest.raises(BadLauncher):
        LocalProvider(launcher="srun")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="min_blocks"):
        LocalProvider(min_blocks=3, max_blocks=2)
    with pytest.raises(ConfigurationError, match="HH:MM:SS"):
        LocalProvider(walltime="15 minutes")
    with pytest.raises(ConfigurationError, match="parallelism"):
        LocalProvider(parallelism=2)
    prov = LocalProvider(walltime=None)
    assert prov.status_polling_interval == 5.0 and prov.label == "local"
    assert "SingleNodeLauncher" in repr(prov)


def test_live_jobs_lists_blocks_until_confirmed_gone(provider: LocalProvider,
                                                     tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    running = provider.submit(f"read code < {gate}; exit $code", 1)
    done = provider.submit("true", 1)
    wait_block_exit(done)
    assert provider.live_jobs() == [running]
    provider.cancel([running, done])
    assert provider.live_jobs() == []
    # cancelling a block that had already ended does not rewrite how it ended
    assert [s.state for s in provider.status([running, done])] == [
        JobState.CANCELLED, JobState.COMPLETED]


def test_a_finished_block_is_never_signalled_again(provider: LocalProvider,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a block's wrapper is reaped, its pid (the session's id) may go to any process:
    pid_max wraps within minutes on a busy machine. Before the fix, cancel() of a finished
    block stopped "session <pid>" again, and on a shared machine that killed a Grid Engine
    execd holding the recycled pid. Until the reaping, the zombie wrapper keeps the id."""
    from plait.providers import _local

    job = provider.submit("exit 0", 1)
    wait_block_exit(job)
    assert psutil.Process(int(job)).status() == psutil.STATUS_ZOMBIE  # not reaped yet
    assert status_of(provider, job).state is JobState.COMPLETED
    assert not psutil.pid_exists(int(job))  # reaped by the status call
    signalled: list[int] = []
    monkeypatch.setattr(_local, "stop_session",
                        lambda sid, grace: signalled.append(sid) or [])
    assert provider.cancel([job]) == [True]
    assert provider.live_jobs() == []
    assert status_of(provider, job).state is JobState.COMPLETED
    assert signalled == []
