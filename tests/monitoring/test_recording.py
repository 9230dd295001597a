"""What a monitored run writes: Parsl's tables and columns, every state, try and failure,
on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitored import add, explode, monitored_kernel, rows
from plait import python_app
from plait.errors import DependencyError
from plait.monitoring import _queries as Q

# Parsl's monitoring tables and their columns (see reference/parsl-api-facts.md §7.2).
PARSL_COLUMNS = {
    "workflow": ["run_id", "workflow_name", "workflow_version", "time_began", "time_completed",
                 "host", "user", "rundir", "tasks_failed_count", "tasks_completed_count"],
    "task": ["task_id", "run_id", "task_depends", "task_func_name", "task_memoize",
             "task_hashsum", "task_inputs", "task_outputs", "task_stdin", "task_stdout",
             "task_stderr", "task_time_invoked", "task_time_returned", "task_fail_count",
             "task_fail_cost"],
    "try": ["try_id", "task_id", "run_id", "block_id", "hostname", "task_executor",
            "task_try_time_launched", "task_try_time_running", "task_try_time_returned",
            "task_fail_history", "task_joins"],
    "status": ["task_id", "task_status_name", "timestamp", "run_id", "try_id"],
    "resource": ["try_id", "task_id", "run_id", "timestamp", "resource_monitoring_interval",
                 "psutil_process_pid", "psutil_process_memory_percent",
                 "psutil_process_children_count", "psutil_process_time_user",
                 "psutil_process_time_system", "psutil_process_memory_virtual",
                 "psutil_process_memory_resident", "psutil_process_disk_read",
                 "psutil_process_disk_write", "psutil_process_status", "psutil_cpu_num",
                 "psutil_process_num_ctx_switches_voluntary",
                 "psutil_process_num_ctx_switches_involuntary"],
    "node": ["id", "run_id", "hostname", "uid", "block_id", "cpu_count", "total_memory",
             "active", "worker_count", "python_v", "timestamp", "last_heartbeat"],
    "block": ["run_id", "executor_label", "block_id", "job_id", "timestamp", "status"],
}


@python_app
def fail_once(marker: str) -> str:
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("the first try fails")
    return "second try"


def test_a_run_is_recorded_whole(db_url: str, tmp_path: Path) -> None:
    with monitored_kernel(str(tmp_path / "runinfo"), db_url, retries=1) as dfk:
        ones = [add(i, 1) for i in range(20)]
        total = add(ones[0], ones[1])
        retried = fail_once(str(tmp_path / "marker"))
        broken = explode("no good")
        blocked = add(broken, 1)
        assert total.result(timeout=30) == 3 and retried.result(timeout=30) == "second try"
        with pytest.raises(DependencyError):
            blocked.result(timeout=30)
        run_id = dfk.run_id
    ids = {name: fut.tid for name, fut in [("total", total), ("retried", retried),
                                            ("broken", broken), ("blocked", blocked)]}

    [(name, completed, failed, done_at, rundir)] = rows(
        db_url, "SELECT workflow_name, tasks_completed_count, tasks_failed_count, "
        "time_completed, rundir FROM workflow WHERE run_id = :r", r=run_id)
    assert name == "monitored.py"  # Parsl's default: the first file outside the library
    assert done_at is not None
    assert (completed, failed) == (22, 2) and rundir == dfk.run_dir
    assert rows(db_url, "SELECT outcome FROM plait_workflow") == [("completed",)]

    tasks = dict(rows(db_url, "SELECT task_id, task_depends FROM task WHERE run_id = :r",
                      r=run_id))
    assert len(tasks) == 24
    assert tasks[ids["total"]] == f"{ones[0].tid},{ones[1].tid}"
    assert tasks[ids["blocked"]] == str(ids["broken"])

    def states(tid: int) -> list[str]:
        return [s for (s,) in rows(db_url, "SELECT task_status_name FROM status WHERE "
                                   "task_id = :t AND run_id = :r ORDER BY timestamp",
                                   t=tid, r=run_id)]

    assert states(ones[3].tid) == ["pending", "launched", "exec_done"]
    assert states(ids["retried"]) == ["pending", "launched", "fail_retryable", "pending",
                                      "launched", "exec_done"]
    assert states(ids["blocked"]) == ["pending", "dep_fail"]
    tries = rows(db_url, "SELECT try_id, task_executor, task_try_time_returned IS NOT NULL "
                 "FROM try WHERE task_id = :t AND run_id = :r ORDER BY try_id",
                 t=ids["retried"], r=run_id)
    assert tries == [(0, "threads", True), (1, "threads", True)]
    assert rows(db_url, "SELECT task_fail_count FROM task WHERE task_id = :t",
                t=ids["retried"]) == [(1,)]

    failures = {tid: (kind, message, tb, root) for tid, kind, message, tb, root in rows(
        db_url, "SELECT task_id, exception_type, message, traceback, root_cause_task "
        "FROM plait_failure WHERE run_id = :r", r=run_id)}
    kind, message, tb, _ = failures[ids["broken"]]
    assert (kind, message) == ("ValueError", "no good") and "in explode" in tb
    kind, message, _, root = failures[ids["blocked"]]
    assert kind.endswith("DependencyError") and root == ids["broken"]
    assert failures[ids["retried"]][1] == "the first try fails"

    progress = {(app, state): n for app, state, n in rows(
        db_url, "SELECT task_func_name, task_status_name, count FROM plait_progress")}
    assert progress == {("add", "exec_done"): 21, ("add", "dep_fail"): 1,
                        ("fail_once", "exec_done"): 1, ("explode", "failed"): 1}


def test_tables_keep_parsls_names_and_columns(db_url: str, tmp_path: Path) -> None:
    with monitored_kernel(str(tmp_path / "runinfo"), db_url) as dfk:
        add(1).result(timeout=30)
        assert dfk.monitoring.flush(30)
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        for table, columns in PARSL_COLUMNS.items():
            assert [c["name"] for c in inspector.get_columns(table)] == columns, table
    finally:
        engine.dispose()


def test_failed_tasks_query_uses_an_index(sqlite_url: str, tmp_path: Path) -> None:
    with monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
        explode("x").exception(timeout=30)
        run_id = dfk.run_id
    plan = rows(sqlite_url, "EXPLAIN QUERY PLAN SELECT task_id FROM status WHERE run_id = :r "
                "AND task_status_name = 'failed'", r=run_id)
    assert "ix_status_failed" in " ".join(str(r) for r in plan)
    # plait's own query, with the exceptions: each state it asks for is read from its
    # partial index, never by scanning the run's status rows
    engine = sa.create_engine(sqlite_url)
    sent: list[tuple[str, Any]] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, sql, params, *_: sent.append((sql, params)))
    try:
        with engine.connect() as conn:
            assert [f.exception_type for f in Q.failures(conn, run_id)] == ["ValueError"]
            [(sql, params)] = sent
            plan = " ".join(str(r) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        engine.dispose()
    for index in ("ix_status_failed", "ix_status_dep_fail", "ix_status_cancelled"):
        assert index in plan, plan
    assert "SCAN status" not in plan, plan


def test_runs_of_one_config_share_the_database(sqlite_url: str, tmp_path: Path) -> None:
    run_ids = []
    for _ in range(2):
        with monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
            add(1).result(timeout=30)
            run_ids.append(dfk.run_id)
    assert sorted(r for (r,) in rows(sqlite_url, "SELECT run_id FROM workflow")) == sorted(
        run_ids)


def test_default_database_is_in_the_base_run_dir(tmp_path: Path) -> None:
    base = tmp_path / "runinfo"
    with monitored_kernel(str(base), None) as dfk:
        add(1).result(timeout=30)
        assert dfk.monitoring.url == f"sqlite:///{base / 'monitoring.db'}"
    assert (base / "monitoring.db").exists()
    assert (Path(dfk.run_dir) / "monitoring.log").exists()


def test_a_run_ended_by_an_exception_is_recorded_as_interrupted(sqlite_url: str,
                                                                tmp_path: Path) -> None:
    import plait
    from plait import Config, ThreadPoolExecutor
    from plait.monitoring import MonitoringHub

    plait.clear()
    config = Config(executors=[ThreadPoolExecutor(max_threads=2)],
                    run_dir=str(tmp_path / "runinfo"),
                    monitoring=MonitoringHub(logging_endpoint=sqlite_url))
    with pytest.raises(KeyboardInterrupt), plait.load(config):
        add(1).result(timeout=30)
        raise KeyboardInterrupt  # what Ctrl-C does in the with block
    assert rows(sqlite_url, "SELECT outcome FROM plait_workflow") == [("interrupted",)]
