"""When the writer writes: a live task's rows are held back so that a short task is inserted
once, finished, and never more than ``HOLD_S`` (see ``plait.monitoring._writer``); an idle
run's ``last_update`` is refreshed every ``HEARTBEAT_S`` (see ``_dbproc``)."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitored import monitored_kernel, rows, wait_for
from plait.monitoring import _dbproc, _writer
from plait.monitoring import _records as R
from plait.monitoring._writer import Writer
from waiting import wait_until

RUN = "run-1"
LAUNCHED, EXEC_DONE, FAIL_RETRYABLE = 7, 3, 8


def _fresh_writer(tmp_path: Path) -> tuple[Writer, list[str]]:
    """A writer on a fresh SQLite file, its workflow committed, and the SQL it runs."""
    w = Writer(f"sqlite:///{tmp_path}/m.db", RUN, print)
    w.add([(R.WORKFLOW, RUN, "n", "v", 1e9, "h", "u", "/d", None, "[]", "/", None, None, 1,
            "3", "0", "[]")])
    w.commit()
    statements: list[str] = []
    w.sqlite.set_trace_callback(statements.append)
    return w, statements


def _submitted(tid: int) -> list[tuple[object, ...]]:
    return [(R.TASK, tid, "f", 1e9 + tid, "threads", False, None, None, None, None, None,
             None, None), (R.STATE, tid, LAUNCHED, 1e9 + tid + 0.1, 0)]


def _ended(tid: int, try_id: int = 0) -> list[tuple[object, ...]]:
    return [(R.FINAL, tid, EXEC_DONE, 1e9 + tid + 0.5, try_id, try_id, 0.0, None, None)]


def _table(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "m.db") as conn:
        return conn.execute(sql).fetchall()


def _rows_once_created(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    """``rows``, or none while the writer has not created the schema yet."""
    try:
        return rows(url, sql, **params)
    except sa.exc.OperationalError:
        return []


def test_a_task_ending_within_its_hold_is_inserted_once_finished(tmp_path: Path) -> None:
    w, statements = _fresh_writer(tmp_path)
    w.add(_submitted(0))
    w.commit(everything=False)
    assert _table(tmp_path, "SELECT count(*) FROM task") == [(0,)]
    assert _table(tmp_path, "SELECT task_status_name FROM status ORDER BY timestamp") == [
        ("pending",), ("launched",)]  # states are never held
    w.add(_ended(0))
    w.commit(everything=False)
    assert _table(tmp_path, "SELECT task_id, task_time_returned IS NOT NULL FROM task") == [
        (0, 1)]
    assert _table(tmp_path, "SELECT try_id, task_try_time_returned IS NOT NULL FROM try") == [
        (0, 1)]
    assert not [s for s in statements if s.startswith(('UPDATE "task"', 'UPDATE "try"'))]


def test_a_task_still_running_after_its_hold_is_inserted_then_updated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_writer, "HOLD_S", 0.0)
    w, statements = _fresh_writer(tmp_path)
    w.add(_submitted(0))
    w.commit(everything=False)
    assert _table(tmp_path, "SELECT task_time_returned FROM task") == [(None,)]
    assert _table(tmp_path, "SELECT task_try_time_returned FROM try") == [(None,)]
    w.add(_ended(0))
    w.commit(everything=False)
    assert _table(tmp_path, "SELECT task_time_returned IS NOT NULL FROM task") == [(1,)]
    assert _table(tmp_path, "SELECT task_try_time_returned IS NOT NULL FROM try") == [(1,)]
    assert [s for s in statements if s.startswith('UPDATE "task"')]


def test_a_retry_of_an_inserted_task_is_held_and_goes_out_with_the_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_writer, "HOLD_S", 0.0)
    w, _ = _fresh_writer(tmp_path)
    w.add([*_submitted(0), (R.STATE, 0, FAIL_RETRYABLE, 1e9 + 0.2, 0)])
    w.commit(everything=False)  # task and first try inserted
    monkeypatch.setattr(_writer, "HOLD_S", 60.0)
    w.add([(R.STATE, 0, LAUNCHED, 1e9 + 0.3, 1), *_ended(0, try_id=1)])
    w.commit(everything=False)
    assert _table(tmp_path, "SELECT try_id, task_try_time_returned IS NOT NULL FROM try "
                            "ORDER BY try_id") == [(0, 1), (1, 1)]
    assert _table(tmp_path, "SELECT task_fail_count FROM task") == [(1,)]


def test_a_flush_writes_every_held_row(tmp_path: Path) -> None:
    w, _ = _fresh_writer(tmp_path)
    w.add(_submitted(0) + _submitted(1))
    w.commit()  # what a FLUSH, the end of input and end() do
    assert _table(tmp_path, "SELECT task_id FROM task ORDER BY task_id") == [(0,), (1,)]
    assert _table(tmp_path, "SELECT task_id FROM try ORDER BY task_id") == [(0,), (1,)]
    assert w.hold_ends() is None


def test_held_rows_are_bounded_oldest_first(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_writer, "MAX_HELD", 2)
    w, _ = _fresh_writer(tmp_path)
    w.add([r for tid in range(5) for r in _submitted(tid)])
    w.commit(everything=False)
    assert _table(tmp_path, "SELECT task_id FROM task ORDER BY task_id") == [
        (0,), (1,), (2,), (3,)]
    assert len(w.held_tasks) + len(w.held_tries) == 2


def test_a_running_task_shows_in_the_task_table_while_it_runs(sqlite_url: str,
                                                             tmp_path: Path) -> None:
    release = threading.Event()
    with monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
        fut = wait_for(release)
        try:
            returned = wait_until(
                lambda: _rows_once_created(sqlite_url, "SELECT task_time_returned IS NULL "
                                           "FROM task WHERE run_id = :r", r=dfk.run_id),
                _writer.HOLD_S + 20, "the running task's row (no flush asked)", interval=0.1)
            assert returned == [(1,)] and not fut.done()
        finally:
            release.set()
        assert fut.result(timeout=30) is True
    assert rows(sqlite_url, "SELECT task_time_returned IS NOT NULL FROM task") == [(1,)]


def test_an_idle_run_is_seen_alive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dbproc, "HEARTBEAT_S", 0.2)
    w = Writer(f"sqlite:///{tmp_path}/m.db", RUN, print)
    read_end, write_end = os.pipe()
    served = threading.Thread(target=_dbproc.serve, args=(w, read_end), daemon=True)
    served.start()
    try:
        os.write(write_end, R.encode([(R.WORKFLOW, RUN, "n", "v", 1e9, "h", "u", "/d", None,
                                       "[]", "/", None, None, 1, "3", "0", "[]")]))

        def last_update() -> object:
            try:
                found = _table(tmp_path, "SELECT last_update FROM plait_workflow")
            except sqlite3.OperationalError:  # no schema yet
                return None
            return found[0][0] if found else None

        first = wait_until(last_update, 30, "the run's first commit")
        wait_until(lambda: last_update() != first, 30, "a heartbeat with no new record")
    finally:
        os.close(write_end)
        served.join(30)
        os.close(read_end)
    assert not served.is_alive()
