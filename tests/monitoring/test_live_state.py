"""Real-time state: dfk.task_summary() (counts per state and app, failures) and the
``plait status`` / ``plait summary`` commands on a recorded run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kernels import kernel
from monitored import add, explode, monitored_kernel, wait_for
from plait.cli._main import main


def test_task_summary_counts_states_apps_and_failures(run_dir: str) -> None:
    with kernel(run_dir) as dfk:
        assert dfk.task_summary().total == 0  # first call before any task: complete per app
        gate = threading.Event()
        waiting = wait_for(gate)
        [f.result(timeout=30) for f in [add(i) for i in range(10)]]
        bad = explode("nope")
        blocked = add(bad)
        blocked.exception(timeout=30)
        summary = dfk.task_summary()
        assert summary.by_app_complete
        assert summary.by_state == {"launched": 1, "exec_done": 10, "failed": 1, "dep_fail": 1}
        assert summary.by_app["add"] == {"exec_done": 10, "dep_fail": 1}
        assert summary.by_app["wait_for"] == {"launched": 1}
        assert (summary.total, summary.finished, summary.failed) == (13, 12, 2)
        [failure] = summary.failures
        assert failure.task_id == bad.tid and isinstance(failure.exception, ValueError)
        assert failure.blocked == [(blocked.tid, "add")]
        assert "wait_for" in summary._repr_html_() and "nope" in str(summary)
        gate.set()
        assert waiting.result(timeout=30) is True


def test_per_app_counts_started_late_say_so(run_dir: str) -> None:
    with kernel(run_dir) as dfk:
        add(1).result(timeout=30)
        first = dfk.task_summary()
        assert not first.by_app_complete and first.by_state == {"exec_done": 1}
        add(2).result(timeout=30)
        assert dfk.task_summary().by_app == {"add": {"exec_done": 1}}


def test_with_monitoring_per_app_counts_are_complete(sqlite_url: str, tmp_path: Path) -> None:
    with monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
        add(1).result(timeout=30)
        summary = dfk.task_summary()
        assert summary.by_app_complete and summary.by_app == {"add": {"exec_done": 1}}


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[str, str]:
    """A finished run with a failure and a blocked task; (run directory, database URL)."""
    url = f"sqlite:///{tmp_path / 'runinfo' / 'monitoring.db'}"
    with monitored_kernel(str(tmp_path / "runinfo"), url) as dfk:
        [f.result(timeout=30) for f in [add(i) for i in range(5)]]
        add(explode("it broke")).exception(timeout=30)
    return dfk.run_dir, url


def test_status_prints_counts_per_app_and_state(recorded: tuple[str, str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, url = recorded
    for target in (run_dir, url, str(Path(run_dir).parent)):
        assert main(["status", target, "--once"]) == 0
        out = capsys.readouterr().out
        assert "completed" in out and "exec_done" in out and "dep_fail" in out
        assert [ln.split() for ln in out.splitlines() if ln.startswith("add ")] == [
            ["add", "│", "5", "│", "│", "1", "│", "6"]]


def test_status_lists_runs_and_shows_a_running_one(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    with monitored_kernel(str(tmp_path / "runinfo"), url) as dfk:
        gate = threading.Event()
        fut = wait_for(gate)
        assert dfk.monitoring.flush(30)
        assert main(["status", url, "--once"]) == 0
        shown = capsys.readouterr().out
        assert "running" in shown and "last heard 20" in shown  # when the writer last wrote
        gate.set()
        fut.result(timeout=30)
    assert main(["status", url, "--list"]) == 0
    assert dfk.run_id[:8] in capsys.readouterr().out


def test_summary_names_root_cause_blocked_tasks_and_logs(
        recorded: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, _ = recorded
    assert main(["summary", run_dir]) == 0
    out = capsys.readouterr().out
    assert "(explode) failed: ValueError: it broke" in out
    assert "blocked 1 task(s)" in out and "in explode" in out
    assert f"{run_dir}/plait.log" in out
    assert "slowest tries" in out and "per app" in out


def test_status_of_a_missing_database_says_what_to_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", str(tmp_path / "nothing-here")]) == 1
    err = capsys.readouterr().err
    assert "no such file or directory" in err and "SQLAlchemy URL" in err


def test_status_is_live_in_a_terminal_and_ends_with_the_run(tmp_path: Path) -> None:
    """``plait status`` in a real terminal (tmux): the table follows the run, then exits."""
    import shlex
    import subprocess
    import sys
    import uuid

    from waiting import wait_until

    url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    session = f"plait-status-{uuid.uuid4().hex[:8]}"

    def screen() -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                              capture_output=True, text=True, timeout=30).stdout

    try:
        with monitored_kernel(str(tmp_path / "runinfo"), url) as dfk:
            gate = threading.Event()
            waiting = wait_for(gate)
            assert dfk.monitoring.flush(30)
            command = (f"{shlex.quote(sys.executable)} -m plait status {shlex.quote(url)} "
                       "--interval 0.2; echo EXITED $?; sleep 120")
            subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y",
                            "30", command], check=True, timeout=30)
            wait_until(lambda: "running" in screen() and "wait_for" in screen(), 30,
                       lambda: f"the live table, showing:\n{screen()}")
            [f.result(timeout=30) for f in [add(i) for i in range(7)]]
            assert dfk.monitoring.flush(30)
            wait_until(lambda: any(ln.split()[:1] == ["add"] and ln.split()[-1] == "7"
                                   for ln in screen().splitlines()), 30,
                       lambda: f"7 finished add tasks on screen:\n{screen()}")
            gate.set()
            assert waiting.result(timeout=30) is True
        wait_until(lambda: "EXITED 0" in screen(), 30,
                   lambda: f"plait status to end with the run:\n{screen()}")
        assert "completed" in screen()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True,
                       timeout=30)
