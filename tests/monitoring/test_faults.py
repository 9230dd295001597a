"""Monitoring under faults: the script killed (nothing it sent is lost), the database
unwritable or its process dead (logged once, the run goes on), readers holding a snapshot
(the writer goes on), and monitoring off (nothing of it is loaded)."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from monitored import monitored_kernel, rows
from plait import python_app
from waiting import wait_until

CRASHING_SCRIPT = textwrap.dedent("""
    import sys, threading
    import plait
    from plait import Config, ThreadPoolExecutor, python_app
    from plait.monitoring import MonitoringHub

    @python_app
    def add(a):
        return a + 1

    @python_app
    def hang(fifo):
        with open(fifo) as f:  # nobody ever writes: the task runs until the script dies
            return f.read()

    run_dir, url, fifo = sys.argv[1:4]
    plait.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=run_dir,
                      monitoring=MonitoringHub(logging_endpoint=url)))
    for f in [add(i) for i in range(50)]:
        f.result()
    hang(fifo)
    threading.Event().wait()
""")


@python_app
def add(a: int, b: int = 0) -> int:
    return a + b


@pytest.mark.timeout(90)
def test_what_was_recorded_before_kill_9_is_in_the_database(db_url: str,
                                                              tmp_path: Path) -> None:
    script = tmp_path / "crashing.py"
    script.write_text(CRASHING_SCRIPT)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "runinfo"), db_url,
                             str(fifo)])
    try:
        wait_until(lambda: _table_exists(db_url) and rows(
            db_url, "SELECT 1 FROM status WHERE task_id = 50 AND task_status_name = "
            "'launched'"), 60, "the 51st task to be recorded as launched")
        writers = psutil.Process(proc.pid).children()
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _, alive = psutil.wait_procs(writers, timeout=30)  # the database process ends by itself
    assert not alive
    assert rows(db_url, "SELECT count(*) FROM status WHERE task_status_name = 'exec_done'"
                ) == [(50,)]
    assert rows(db_url, "SELECT workflow_name, time_completed FROM workflow") == [
        ("crashing.py", None)]
    assert rows(db_url, "SELECT outcome FROM plait_workflow") == [("lost",)]


def _table_exists(url: str) -> bool:
    try:
        rows(url, "SELECT 1 FROM status WHERE 1 = 0")
        return True
    except Exception:  # not created yet
        return False


def test_unwritable_database_is_logged_once_and_the_run_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "not-a-dir").write_text("")
    url = f"sqlite:///{tmp_path / 'not-a-dir' / 'monitoring.db'}"
    with caplog.at_level(logging.WARNING, "plait"), \
            monitored_kernel(str(tmp_path / "runinfo"), url) as dfk:
        assert [add(i).result(timeout=30) for i in range(200)] == list(range(200))
        assert dfk.monitoring.flush(30) is False
        assert sum(add(i, 1).result(timeout=30) for i in range(100)) == 5050
    warnings = [r for r in caplog.records if "monitoring cannot write" in r.getMessage()]
    assert len(warnings) == 1
    assert "not-a-dir" in warnings[0].getMessage()
    assert "monitoring cannot write" in (Path(dfk.run_dir) / "plait.log").read_text()


def test_dead_database_process_is_logged_once_and_recording_stops(
        sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "plait"), \
            monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
        assert add(1).result(timeout=30) == 1
        [session] = dfk.monitoring._sessions.values()
        os.kill(session.proc.pid, signal.SIGKILL)
        wait_until(lambda: session.recorder not in dfk._book.events.callbacks, 30,
                 "the recorder to unsubscribe")
        assert [add(i).result(timeout=30) for i in range(100)] == list(range(100))
        assert dfk.monitoring.flush(5) is False
    gone = [r for r in caplog.records if "monitoring database process" in r.getMessage()]
    assert len(gone) == 1 and "is gone" in gone[0].getMessage()


def test_a_stalled_database_process_neither_stops_the_run_nor_grows_its_memory(
        sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from plait.monitoring import _recorder

    monkeypatch.setattr(_recorder, "MAX_BACKLOG", 2_000)
    with caplog.at_level(logging.WARNING, "plait"), \
            monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
        assert add(1).result(timeout=30) == 1
        [session] = dfk.monitoring._sessions.values()
        assert dfk.monitoring.flush(30)
        os.kill(session.proc.pid, signal.SIGSTOP)  # hung: alive, reads nothing
        try:
            for _ in range(10):  # far more records than the pipe holds and the bound allows
                assert sum(f.result(timeout=30) for f in [add(i) for i in range(1000)]
                           ) == 499500
            # nothing is read, yet the backlog shrinks back under its bound
            wait_until(lambda: len(session.sender.queue) <= _recorder.MAX_BACKLOG, 30,
                       "the backlog to be dropped down to its bound")
            assert session.sender.dropped > 0
        finally:
            os.kill(session.proc.pid, signal.SIGCONT)
    behind = [r for r in caplog.records if "records behind" in r.getMessage()]
    assert len(behind) == 1 and "the run goes on" in behind[0].getMessage()
    [(outcome, dropped)] = rows(sqlite_url, "SELECT outcome, records_dropped FROM "
                                "plait_workflow")
    assert outcome == "completed" and dropped == session.sender.dropped > 0


def test_a_reader_holding_a_snapshot_does_not_block_the_writer(sqlite_url: str,
                                                               tmp_path: Path) -> None:
    with monitored_kernel(str(tmp_path / "runinfo"), sqlite_url):
        add(1).result(timeout=30)
    reader = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        reader.execute("BEGIN")
        [(before,)] = reader.execute("SELECT count(*) FROM status").fetchall()
        with monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
            assert sum(f.result(timeout=30) for f in [add(i) for i in range(100)]) == 4950
            assert dfk.monitoring.flush(30) is True
        assert reader.execute("SELECT count(*) FROM status").fetchall() == [(before,)]
        reader.execute("COMMIT")
        [(after,)] = reader.execute("SELECT count(*) FROM status").fetchall()
        assert after == before + 300
    finally:
        reader.close()


def test_monitoring_off_loads_nothing_of_it(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys, plait
        from plait import Config, python_app

        @python_app
        def add(a):
            return a + 1

        with plait.load(Config(run_dir={str(tmp_path / 'runinfo')!r})) as dfk:
            assert add(1).result(timeout=30) == 2
            print(len(dfk._book.events.callbacks),
                  [m for m in ("plait.monitoring", "sqlalchemy") if m in sys.modules])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "[]"]
