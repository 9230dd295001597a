"""The monitoring database: Parsl's tables and columns, plait's own tables, and their indexes.

Parsl's seven tables keep its names, columns and types, so queries and notebooks written
against a Parsl monitoring database work unchanged:

    workflow   one row per run (run_id is the kernel's uuid)
    task       one row per task: app name, dependencies, hash, std streams, times, failures
    try        one row per try of a task: executor, host and block, launch/return times
    status     one row per state change (Parsl's state names, e.g. 'exec_done')
    resource   psutil samples of a try's process on its worker
    node       managers (one per node per block) as they register and are lost
    block      block (batch job) state changes

plait adds, without changing any of those:

    plait_meta      key/value: the schema version
    plait_workflow  per run: script, command line, working directory, the run it retries
                    (``plait retry``), its control socket (``live_retry``), pid, versions,
                    executors, outcome ('running', 'completed', 'interrupted', 'lost'),
                    records dropped
    plait_task      per task called with arguments or a walltime: a short summary of the
                    arguments, the walltime asked for
    plait_failure   per failed try: exception type, message, traceback, root-cause task
    plait_progress  per run, app and state: how many tasks are in that state now

Every query the tools run is served by an index created with the tables. The primary keys
have Parsl's columns but start with ``run_id`` (Parsl's start with ``task_id``), so that one
run's rows are one range of the key: "this run's tasks/states/tries" needs no extra index,
and each row costs one B-tree insert plus the few partial INDEXES below.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Integer, Text

SCHEMA_VERSION = 1

metadata = sa.MetaData()

# sqlite_with_rowid=False: on SQLite, a table with a composite primary key is stored in that
# key's B-tree (WITHOUT ROWID), one B-tree insert per row instead of two. Other databases
# ignore the option.

workflow = sa.Table(
    "workflow", metadata,
    Column("run_id", Text, nullable=False, primary_key=True),
    Column("workflow_name", Text, nullable=True),
    Column("workflow_version", Text, nullable=True),
    Column("time_began", DateTime, nullable=False),
    Column("time_completed", DateTime, nullable=True),
    Column("host", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("rundir", Text, nullable=False),
    Column("tasks_failed_count", Integer, nullable=False),
    Column("tasks_completed_count", Integer, nullable=False),
)

status = sa.Table(
    "status", metadata,
    Column("task_id", Integer, nullable=False),
    Column("task_status_name", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("run_id", Text, sa.ForeignKey("workflow.run_id"), nullable=False),
    Column("try_id", Integer, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "task_id", "task_status_name", "timestamp"),
    sqlite_with_rowid=False,
)

task = sa.Table(
    "task", metadata,
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("task_depends", Text, nullable=True),
    Column("task_func_name", Text, nullable=False),
    Column("task_memoize", Text, nullable=False),
    Column("task_hashsum", Text, nullable=True),
    Column("task_inputs", Text, nullable=True),
    Column("task_outputs", Text, nullable=True),
    Column("task_stdin", Text, nullable=True),
    Column("task_stdout", Text, nullable=True),
    Column("task_stderr", Text, nullable=True),
    Column("task_time_invoked", DateTime, nullable=True),
    Column("task_time_returned", DateTime, nullable=True),
    Column("task_fail_count", Integer, nullable=False),
    Column("task_fail_cost", Float, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "task_id"),
    sqlite_with_rowid=False,
)

try_ = sa.Table(
    "try", metadata,
    Column("try_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("block_id", Text, nullable=True),
    Column("hostname", Text, nullable=True),
    Column("task_executor", Text, nullable=False),
    Column("task_try_time_launched", DateTime, nullable=True),
    Column("task_try_time_running", DateTime, nullable=True),
    Column("task_try_time_returned", DateTime, nullable=True),
    Column("task_fail_history", Text, nullable=True),
    Column("task_joins", Text, nullable=True),
    sa.PrimaryKeyConstraint("run_id", "task_id", "try_id"),
    sqlite_with_rowid=False,
)

node = sa.Table(
    "node", metadata,
    Column("id", Integer, nullable=False, primary_key=True, autoincrement=True),
    Column("run_id", Text, nullable=False),
    Column("hostname", Text, nullable=False),
    Column("uid", Text, nullable=False),
    Column("block_id", Text, nullable=False),
    Column("cpu_count", Integer, nullable=False),
    Column("total_memory", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("worker_count", Integer, nullable=False),
    Column("python_v", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("last_heartbeat", DateTime, nullable=False),
)

block = sa.Table(
    "block", metadata,
    Column("run_id", Text, nullable=False),
    Column("executor_label", Text, nullable=False),
    Column("block_id", Text, nullable=False),
    Column("job_id", Text, nullable=True),
    Column("timestamp", DateTime, nullable=False),
    Column("status", Text, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "block_id", "executor_label", "timestamp"),
    sqlite_with_rowid=False,
)

resource = sa.Table(
    "resource", metadata,
    Column("try_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, sa.ForeignKey("workflow.run_id"), nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("resource_monitoring_interval", Float, nullable=True),
    Column("psutil_process_pid", Integer, nullable=True),
    Column("psutil_process_memory_percent", Float, nullable=True),
    Column("psutil_process_children_count", Float, nullable=True),
    Column("psutil_process_time_user", Float, nullable=True),
    Column("psutil_process_time_system", Float, nullable=True),
    Column("psutil_process_memory_virtual", Float, nullable=True),
    Column("psutil_process_memory_resident", Float, nullable=True),
    Column("psutil_process_disk_read", Float, nullable=True),
    Column("psutil_process_disk_write", Float, nullable=True),
    Column("psutil_process_status", Text, nullable=True),
    Column("psutil_cpu_num", Text, nullable=True),
    Column("psutil_process_num_ctx_switches_voluntary", Float, nullable=True),
    Column("psutil_process_num_ctx_switches_involuntary", Float, nullable=True),
    sa.PrimaryKeyConstraint("run_id", "task_id", "try_id", "timestamp"),
    sqlite_with_rowid=False,
)

plait_meta = sa.Table(
    "plait_meta", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

plait_workflow = sa.Table(
    "plait_workflow", metadata,
    Column("run_id", Text, sa.ForeignKey("workflow.run_id"), primary_key=True),
    Column("script", Text, nullable=True),
    Column("argv", Text, nullable=True),
    Column("cwd", Text, nullable=True),
    Column("retry_of", Text, nullable=True),
    Column("control", Text, nullable=True),
    Column("pid", Integer, nullable=True),
    Column("python_version", Text, nullable=True),
    Column("plait_version", Text, nullable=True),
    Column("executors", Text, nullable=True),
    Column("outcome", Text, nullable=False),
    Column("last_update", DateTime, nullable=True),
    Column("records_dropped", Integer, nullable=False, default=0),
)

plait_task = sa.Table(
    "plait_task", metadata,
    Column("run_id", Text, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("task_args", Text, nullable=True),
    Column("task_walltime", Float, nullable=True),
    sa.PrimaryKeyConstraint("run_id", "task_id"),
    sqlite_with_rowid=False,
)

plait_failure = sa.Table(
    "plait_failure", metadata,
    Column("run_id", Text, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("try_id", Integer, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("exception_type", Text, nullable=True),
    Column("message", Text, nullable=True),
    Column("traceback", Text, nullable=True),
    Column("root_cause_task", Integer, nullable=True),
    sa.PrimaryKeyConstraint("run_id", "task_id", "try_id"),
    sqlite_with_rowid=False,
)

plait_progress = sa.Table(
    "plait_progress", metadata,
    Column("run_id", Text, nullable=False),
    Column("task_func_name", Text, nullable=False),
    Column("task_status_name", Text, nullable=False),
    Column("count", Integer, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "task_func_name", "task_status_name"),
    sqlite_with_rowid=False,
)

INDEXES = [
    # one run's failures, e.g. ``WHERE run_id = ? AND task_status_name = 'failed'``: partial
    # indexes hold only those rows, not the three or more status rows of every task
    sa.Index("ix_status_failed", status.c.run_id, status.c.task_id,
             sqlite_where=status.c.task_status_name == "failed",
             postgresql_where=status.c.task_status_name == "failed"),
    sa.Index("ix_status_dep_fail", status.c.run_id, status.c.task_id,
             sqlite_where=status.c.task_status_name == "dep_fail",
             postgresql_where=status.c.task_status_name == "dep_fail"),
    sa.Index("ix_status_cancelled", status.c.run_id, status.c.task_id,
             sqlite_where=status.c.task_status_name == "cancelled",
             postgresql_where=status.c.task_status_name == "cancelled"),
    # memo look-ups by hash (Parsl indexes it too; only memoized tasks have one)
    sa.Index("ix_task_hashsum", task.c.task_hashsum,
             sqlite_where=task.c.task_hashsum.is_not(None),
             postgresql_where=task.c.task_hashsum.is_not(None)),
    sa.Index("ix_node_run", node.c.run_id),
]


def sqlite_ddl_module() -> str:
    """The source of :mod:`plait.monitoring._sqlite_ddl`: this schema's SQLite DDL (tables
    and indexes, ``IF NOT EXISTS``), columns and version, for the writer's path without
    SQLAlchemy. Regenerate with ``python -m plait.monitoring._schema`` after a change here
    (a test fails until then)."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = sqlite.dialect()
    ddl = [str(CreateTable(t, if_not_exists=True).compile(dialect=dialect))
           for t in metadata.sorted_tables]
    ddl += [str(CreateIndex(i, if_not_exists=True).compile(dialect=dialect))
            for i in INDEXES]
    columns = {t.name: tuple(c.name for c in t.columns) for t in metadata.sorted_tables}
    lines = ['"""Generated from plait.monitoring._schema by ``python -m',
             'plait.monitoring._schema``: do not edit (a test compares the two)."""', "",
             "# ruff: noqa: E501", "",
             f"SCHEMA_VERSION = {SCHEMA_VERSION}", "",
             "COLUMNS: dict[str, tuple[str, ...]] = {"]
    for name, cols in columns.items():
        lines.append(f"    {name!r}: (")
        lines += [f"        {c!r}," for c in cols]
        lines.append("    ),")
    lines += ["}", "", "DDL: tuple[str, ...] = ("]
    for statement in ddl:
        lines.append("    (")
        lines += [f"        {line!r}" for line in statement.splitlines(keepends=True)]
        lines.append("    ),")
    lines.append(")")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import pathlib

    target = pathlib.Path(__file__).with_name("_sqlite_ddl.py")
    target.write_text(sqlite_ddl_module())
    print(f"wrote {target}")
