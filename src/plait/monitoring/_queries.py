"""Read-side queries over a monitoring database, shared by the CLI, dashboard and report.

Every query names one run (``run_id``) and is served by an index or a primary key (see
:mod:`._schema`). Results are plain dataclasses and dicts, ready to print or to serve as JSON.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from plait.monitoring import _schema as s
from plait.monitoring._db import open_engine, resolve_url
from plait.monitoring._errors import MonitoringDatabaseError

FINAL = ("exec_done", "memo_done", "failed", "dep_fail", "cancelled")
FAILED = ("failed", "dep_fail", "cancelled")
STATE_ORDER = ("pending", "staging_in", "launched", "running", "running_ended", "joining",
               "staging_out", "fail_retryable", "exec_done", "memo_done", "failed", "dep_fail",
               "cancelled")


@contextmanager
def reader(target: str) -> Iterator[Engine]:
    """An engine on the database of ``target`` (URL, file or run directory)."""
    url = resolve_url(target)
    engine = open_engine(url)
    try:
        if not sa.inspect(engine).has_table("workflow"):
            raise MonitoringDatabaseError(target, "it has no monitoring tables")
        yield engine
    finally:
        engine.dispose()


@dataclass
class Run:
    """One workflow run as recorded."""

    run_id: str
    name: str | None
    version: str | None
    began: datetime.datetime
    completed: datetime.datetime | None
    host: str
    user: str
    rundir: str
    outcome: str
    script: str | None
    tasks_completed: int
    tasks_failed: int
    last_update: datetime.datetime | None = None
    executors: str | None = None
    argv: str | None = None
    cwd: str | None = None
    retry_of: str | None = None
    control: str | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        """Tasks per state, over every app."""
        out: dict[str, int] = {}
        for states in self.counts.values():
            for state, n in states.items():
                out[state] = out.get(state, 0) + n
        return out

    @property
    def task_count(self) -> int:
        return sum(self.totals.values())

    @property
    def duration(self) -> float | None:
        end = self.completed or self.last_update
        return (end - self.began).total_seconds() if end else None


_RUN_COLUMNS = (s.workflow.c.run_id, s.workflow.c.workflow_name, s.workflow.c.workflow_version,
                s.workflow.c.time_began, s.workflow.c.time_completed, s.workflow.c.host,
                s.workflow.c.user, s.workflow.c.rundir, s.plait_workflow.c.outcome,
                s.plait_workflow.c.script, s.workflow.c.tasks_completed_count,
                s.workflow.c.tasks_failed_count, s.plait_workflow.c.last_update,
                s.plait_workflow.c.executors, s.plait_workflow.c.argv,
                s.plait_workflow.c.cwd, s.plait_workflow.c.retry_of,
                s.plait_workflow.c.control)


def _runs_query() -> sa.Select[Any]:
    return sa.select(*_RUN_COLUMNS).select_from(s.workflow.outerjoin(
        s.plait_workflow, s.plait_workflow.c.run_id == s.workflow.c.run_id))


def _run_from(row: Any) -> Run:
    return Run(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
               row[8] or ("completed" if row[4] else "unknown"), row[9], row[10], row[11],
               row[12], row[13], row[14], row[15], row[16], row[17])


def runs(conn: Connection, limit: int = 200) -> list[Run]:
    """The latest runs first, with their counts per app and state."""
    found = [_run_from(r) for r in conn.execute(
        _runs_query().order_by(s.workflow.c.time_began.desc()).limit(limit))]
    for run in found:
        run.counts = progress(conn, run.run_id)
    return found


def find_run(conn: Connection, target: str, run: str | None = None) -> Run:
    """The run ``target`` names: ``run`` (an id or unique prefix) if given, else the run whose
    directory ``target`` is, else the latest run in the database."""
    query = _runs_query()
    if run:
        rows = conn.execute(query.where(s.workflow.c.run_id.startswith(run))).all()
        if len(rows) != 1:
            raise MonitoringDatabaseError(target, f"{len(rows)} runs match {run!r}; give more "
                                          "of the run id (see `plait status --list`)")
        found = _run_from(rows[0])
    else:
        path = os.path.abspath(target) if "://" not in target else None
        row = None
        if path and os.path.isdir(path):
            row = conn.execute(query.where(s.workflow.c.rundir == path)).first()
        if row is None:
            row = conn.execute(query.order_by(s.workflow.c.time_began.desc())).first()
        if row is None:
            raise MonitoringDatabaseError(target, "it records no run yet")
        found = _run_from(row)
    found.counts = progress(conn, found.run_id)
    return found


def progress(conn: Connection, run_id: str) -> dict[str, dict[str, int]]:
    """Tasks per app and state, as the writer last counted them."""
    p = s.plait_progress
    out: dict[str, dict[str, int]] = {}
    for app, state, n in conn.execute(sa.select(p.c.task_func_name, p.c.task_status_name,
                                                p.c.count).where(p.c.run_id == run_id)):
        out.setdefault(app, {})[state] = n
    return out


@dataclass
class Failure:
    """A failed (or dependency-failed) task with the facts needed to act on it."""

    task_id: int
    app: str
    state: str
    try_id: int
    exception_type: str | None
    message: str | None
    traceback: str | None
    root_cause_task: int | None
    stdout: str | None
    stderr: str | None
    time: datetime.datetime | None


def failures(conn: Connection, run_id: str, limit: int = 1000,
             include_dep_fail: bool = True) -> list[Failure]:
    """A run's failed tasks (each with its last try's exception), oldest first."""
    st, t, f = s.status, s.task, s.plait_failure
    states = ["failed", "cancelled"] + (["dep_fail"] if include_dep_fail else [])
    # one SELECT per state, each a range of that state's partial index (an IN over the
    # states would scan every status row of the run: 2 s at 10^6 tasks instead of 0.02 s)
    ended = sa.union_all(*(
        sa.select(st.c.task_id, st.c.task_status_name, st.c.timestamp)
        .where(st.c.run_id == run_id, st.c.task_status_name == state) for state in states)
    ).order_by("timestamp").limit(limit).subquery()
    query = (sa.select(ended.c.task_id, t.c.task_func_name, ended.c.task_status_name,
                       f.c.try_id, f.c.exception_type, f.c.message, f.c.traceback,
                       f.c.root_cause_task, t.c.task_stdout, t.c.task_stderr,
                       ended.c.timestamp)
             .select_from(ended.join(t, sa.and_(t.c.task_id == ended.c.task_id,
                                                t.c.run_id == run_id))
                          .outerjoin(f, sa.and_(f.c.run_id == run_id,
                                                f.c.task_id == ended.c.task_id)))
             .order_by(ended.c.timestamp, f.c.try_id.desc()))
    seen: dict[int, Failure] = {}
    for row in conn.execute(query):
        if row[0] not in seen:  # the latest try's exception comes first
            seen[row[0]] = Failure(*row)
    return list(seen.values())


def failed_task_ids(conn: Connection, run_id: str, state: str = "failed") -> list[int]:
    """Ids of a run's tasks that ended in ``state`` (served by a partial index)."""
    st = s.status
    return [r[0] for r in conn.execute(
        sa.select(st.c.task_id).where(st.c.run_id == run_id, st.c.task_status_name == state))]


def seconds_between(conn: Connection, start: Any, end: Any) -> Any:
    """A SQL expression for ``end - start`` in seconds, for this database."""
    if conn.dialect.name == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    return sa.extract("epoch", end - start)


@dataclass
class TryRow:
    """One try: where and when it ran."""

    task_id: int
    try_id: int
    app: str
    executor: str
    hostname: str | None
    block_id: str | None
    launched: datetime.datetime | None
    running: datetime.datetime | None
    returned: datetime.datetime | None
    state: str | None = None

    @property
    def duration(self) -> float | None:
        if self.launched and self.returned:
            return (self.returned - self.launched).total_seconds()
        return None


def tries(conn: Connection, run_id: str, limit: int = 100_000) -> list[TryRow]:
    """A run's tries in launch order (the timeline), with each task's final state."""
    y, t = s.try_, s.task
    query = (sa.select(y.c.task_id, y.c.try_id, t.c.task_func_name, y.c.task_executor,
                       y.c.hostname, y.c.block_id, y.c.task_try_time_launched,
                       y.c.task_try_time_running, y.c.task_try_time_returned)
             .select_from(y.join(t, sa.and_(t.c.task_id == y.c.task_id, t.c.run_id == run_id)))
             .where(y.c.run_id == run_id)
             .order_by(y.c.task_try_time_launched).limit(limit))
    out = [TryRow(*row) for row in conn.execute(query)]
    finals = final_states(conn, run_id)
    for row in out:
        row.state = finals.get(row.task_id)
    return out


def final_states(conn: Connection, run_id: str) -> dict[int, str]:
    """Task id → final state, for the tasks of ``run_id`` that have ended."""
    st = s.status
    return dict(conn.execute(sa.select(st.c.task_id, st.c.task_status_name).where(
        st.c.run_id == run_id, st.c.task_status_name.in_(FINAL))).all())


def current_states(conn: Connection, run_id: str) -> dict[int, str]:
    """Task id → its state now: its final state if it has one, else its latest one.

    Final states come from their own rows; only when some task has none are the other
    status rows read (a finished run of 10^5 tasks needs a third of its status rows).
    """
    st = s.status
    states = final_states(conn, run_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(s.task).where(
        s.task.c.run_id == run_id)).scalar_one()
    if len(states) >= total:
        return states
    latest: dict[int, Any] = {}
    for tid, name, when in conn.execute(
            sa.select(st.c.task_id, st.c.task_status_name, sa.type_coerce(st.c.timestamp,
                                                                          sa.Text))
            .where(st.c.run_id == run_id, st.c.task_status_name.not_in(FINAL))):
        if tid not in states and (tid not in latest or when > latest[tid][1]):
            latest[tid] = (name, when)
    states.update({tid: name for tid, (name, _) in latest.items()})
    return states


def epoch_ms(conn: Connection) -> tuple[Any, Any]:
    """``(column → expression, value → epoch ms)`` to read a DateTime column fast.

    SQLite stores local-time text: it is read as text and converted with a per-second
    cache (SQLAlchemy's own parsing costs several microseconds per value).
    """
    if conn.dialect.name != "sqlite":
        return (lambda col: col), (lambda v: v.timestamp() * 1000.0 if v else None)
    seconds: dict[str, float] = {}

    def convert(text: str | None) -> float | None:
        if not text:
            return None
        head = text[:19]
        base = seconds.get(head)
        if base is None:
            base = seconds[head] = datetime.datetime.fromisoformat(head).timestamp() * 1000.0
        return base + (int(text[20:26].ljust(6, "0")) / 1000.0 if len(text) > 20 else 0.0)

    return (lambda col: sa.type_coerce(col, sa.Text)), convert


@dataclass
class AppStats:
    """Per-app figures for one run."""

    app: str
    tasks: int
    states: dict[str, int]
    tries: int
    mean_s: float | None
    median_s: float | None
    max_s: float | None
    total_s: float
    walltime_used_max: float | None = None  # the largest duration / walltime asked, if any


def app_stats(conn: Connection, run_id: str) -> list[AppStats]:
    """Counts by state and try durations per app (durations of tries that returned)."""
    counts = progress(conn, run_id)
    durations: dict[str, list[float]] = {}
    walltime_used: dict[str, float] = {}
    y, t, pt = s.try_, s.task, s.plait_task
    seconds = seconds_between(conn, y.c.task_try_time_launched, y.c.task_try_time_returned)
    query = (sa.select(t.c.task_func_name, seconds, pt.c.task_walltime)
             .select_from(y.join(t, sa.and_(t.c.task_id == y.c.task_id, t.c.run_id == run_id))
                          .outerjoin(pt, sa.and_(pt.c.task_id == y.c.task_id,
                                                 pt.c.run_id == run_id)))
             .where(y.c.run_id == run_id, y.c.task_try_time_returned.is_not(None)))
    for app, secs, walltime in conn.execute(query):
        durations.setdefault(app, []).append(float(secs or 0.0))
        if walltime:
            used = float(secs or 0.0) / walltime
            walltime_used[app] = max(walltime_used.get(app, 0.0), used)
    out = []
    for app in sorted(set(counts) | set(durations)):
        d = sorted(durations.get(app, []))
        states = counts.get(app, {})
        out.append(AppStats(app, sum(states.values()), states, len(d),
                            sum(d) / len(d) if d else None, d[len(d) // 2] if d else None,
                            d[-1] if d else None, sum(d), walltime_used.get(app)))
    return out


def slowest(conn: Connection, run_id: str, n: int = 10) -> list[TryRow]:
    """The ``n`` longest tries of a run."""
    y, t = s.try_, s.task
    seconds = seconds_between(conn, y.c.task_try_time_launched, y.c.task_try_time_returned)
    query = (sa.select(y.c.task_id, y.c.try_id, t.c.task_func_name, y.c.task_executor,
                       y.c.hostname, y.c.block_id, y.c.task_try_time_launched,
                       y.c.task_try_time_running, y.c.task_try_time_returned)
             .select_from(y.join(t, sa.and_(t.c.task_id == y.c.task_id, t.c.run_id == run_id)))
             .where(y.c.run_id == run_id, y.c.task_try_time_returned.is_not(None))
             .order_by(seconds.desc()).limit(n))
    return [TryRow(*row) for row in conn.execute(query)]


def task_detail(conn: Connection, run_id: str, task_id: int) -> dict[str, Any] | None:
    """Everything recorded about one task: its row, states, tries, failures, samples."""
    t = s.task
    row = conn.execute(sa.select(t).where(t.c.run_id == run_id, t.c.task_id == task_id)
                       ).mappings().first()
    if row is None:
        return None
    detail: dict[str, Any] = dict(row)
    st, y, f, r, pt = s.status, s.try_, s.plait_failure, s.resource, s.plait_task
    detail["states"] = [dict(m) for m in conn.execute(
        sa.select(st.c.task_status_name, st.c.timestamp, st.c.try_id).where(
            st.c.run_id == run_id, st.c.task_id == task_id).order_by(st.c.timestamp)
    ).mappings()]
    detail["tries"] = [dict(m) for m in conn.execute(
        sa.select(y).where(y.c.run_id == run_id, y.c.task_id == task_id).order_by(y.c.try_id)
    ).mappings()]
    detail["failures"] = [dict(m) for m in conn.execute(
        sa.select(f).where(f.c.run_id == run_id, f.c.task_id == task_id).order_by(f.c.try_id)
    ).mappings()]
    detail["resources"] = [dict(m) for m in conn.execute(
        sa.select(r).where(r.c.run_id == run_id, r.c.task_id == task_id).order_by(r.c.timestamp)
    ).mappings()]
    args = conn.execute(sa.select(pt.c.task_args).where(pt.c.run_id == run_id,
                                                        pt.c.task_id == task_id)).first()
    detail["task_args"] = args[0] if args else None
    detail["state"] = detail["states"][-1]["task_status_name"] if detail["states"] else None
    return detail


def dependents(conn: Connection, run_id: str) -> dict[int, list[int]]:
    """Task id → ids of the tasks that depend on it (from ``task_depends``)."""
    t = s.task
    out: dict[int, list[int]] = {}
    for tid, deps in conn.execute(sa.select(t.c.task_id, t.c.task_depends).where(
            t.c.run_id == run_id, t.c.task_depends.is_not(None))):
        for dep in deps.split(","):
            if dep:
                out.setdefault(int(dep), []).append(tid)
    return out


def resource_series(conn: Connection, run_id: str, limit: int = 50_000) -> list[dict[str, Any]]:
    """A run's resource samples, oldest first."""
    r = s.resource
    return [dict(m) for m in conn.execute(
        sa.select(r.c.task_id, r.c.try_id, r.c.timestamp, r.c.psutil_process_time_user,
                  r.c.psutil_process_time_system, r.c.psutil_process_memory_resident,
                  r.c.psutil_process_disk_read, r.c.psutil_process_disk_write)
        .where(r.c.run_id == run_id).order_by(r.c.timestamp).limit(limit)).mappings()]


def tail(path: str | None, size: int = 4096) -> str | None:
    """The last ``size`` bytes of a file (a task's stdout/stderr), or None if unreadable."""
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, os.path.getsize(path) - size))
            return fh.read().decode(errors="replace")
    except OSError:
        return None
