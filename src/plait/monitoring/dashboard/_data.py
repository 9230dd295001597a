"""The dashboard's and report's data: one run's summary, graph, timeline and task details as
JSON-ready dicts (times in epoch milliseconds, long series as parallel arrays)."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from plait.monitoring import _queries as Q
from plait.monitoring import _schema as s

STATES = list(Q.STATE_ORDER)
_STATE_INDEX = {name: i for i, name in enumerate(STATES)}


def ms(value: datetime.datetime | None) -> float | None:
    """Epoch milliseconds of a naive local datetime (how the database stores times)."""
    return value.timestamp() * 1000.0 if value is not None else None


def run_json(run: Q.Run) -> dict[str, Any]:
    totals = run.totals
    return {"run_id": run.run_id, "name": run.name, "version": run.version,
            "began": ms(run.began), "completed": ms(run.completed),
            "last_update": ms(run.last_update), "host": run.host, "user": run.user,
            "rundir": run.rundir, "outcome": run.outcome, "script": run.script,
            "tasks": run.task_count, "states": totals, "counts": run.counts,
            "failed": totals.get("failed", 0) + totals.get("dep_fail", 0),
            "duration": run.duration, "executors": run.executors}


def runs(conn: Connection) -> list[dict[str, Any]]:
    return [run_json(r) for r in Q.runs(conn)]


def summary(conn: Connection, run_id: str) -> dict[str, Any]:
    """What the first paint shows: header, counts per app and state, failures."""
    run = Q.find_run(conn, run_id, run_id)
    return {"run": run_json(run), "states": STATES, "failures": failures(conn, run.run_id)}


def apps(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """Per-app counts and try durations (read after the first paint: it reads every try)."""
    return [{"app": a.app, "tasks": a.tasks, "states": a.states, "tries": a.tries,
             "mean": a.mean_s, "median": a.median_s, "max": a.max_s, "total": a.total_s,
             "walltime_used_max": a.walltime_used_max}
            for a in Q.app_stats(conn, run_id)]


def failures(conn: Connection, run_id: str, limit: int = 500) -> list[dict[str, Any]]:
    return [{"task_id": f.task_id, "app": f.app, "state": f.state, "try_id": f.try_id,
             "exception_type": f.exception_type, "message": f.message,
             "root_cause_task": f.root_cause_task, "time": ms(f.time),
             "last_frame": _last_frame(f.traceback)}
            for f in Q.failures(conn, run_id, limit)]


def _last_frame(tb: str | None) -> str | None:
    if not tb:
        return None
    frames = [ln.strip() for ln in tb.splitlines() if ln.strip().startswith("File ")]
    return frames[-1] if frames else None


def graph(conn: Connection, run_id: str) -> dict[str, Any]:
    """Every task with its app, state, dependencies and a layered layout.

    ``level`` is the length of the longest dependency chain leading to the task (task ids
    grow with submission, so a dependency always comes first); ``row`` is its position in
    its level. The client draws nodes at (level, row) and aggregates them when zoomed out.
    """
    t = s.task
    apps: dict[str, int] = {}
    ids: list[int] = []
    app_of: list[int] = []
    level: list[int] = []
    row: list[int] = []
    edges: list[int] = []
    level_of: dict[int, int] = {}
    rows_in: list[int] = []
    for tid, func, depends in conn.execute(
            sa.select(t.c.task_id, t.c.task_func_name, t.c.task_depends)
            .where(t.c.run_id == run_id).order_by(t.c.task_id)):
        depth = 0
        if depends:
            for dep in depends.split(","):
                if dep:
                    d = int(dep)
                    edges.append(d)
                    edges.append(tid)
                    depth = max(depth, level_of.get(d, -1) + 1)
        level_of[tid] = depth
        while len(rows_in) <= depth:
            rows_in.append(0)
        ids.append(tid)
        app_of.append(apps.setdefault(func, len(apps)))
        level.append(depth)
        row.append(rows_in[depth])
        rows_in[depth] += 1
    return {"count": len(ids), "apps": list(apps), "states": STATES, "ids": ids,
            "app": app_of, "level": level, "row": row, "edges": edges,
            "state": _states(conn, run_id, ids), "levels": rows_in}


def graph_states(conn: Connection, run_id: str) -> dict[str, Any]:
    """Only the states (and ids) of the graph: what changes while a run goes on."""
    ids = [r[0] for r in conn.execute(sa.select(s.task.c.task_id).where(
        s.task.c.run_id == run_id).order_by(s.task.c.task_id))]
    return {"count": len(ids), "ids": ids, "state": _states(conn, run_id, ids)}


def _states(conn: Connection, run_id: str, ids: list[int]) -> list[int]:
    current = Q.current_states(conn, run_id)
    pending = _STATE_INDEX["pending"]
    return [_STATE_INDEX.get(current.get(tid, "pending"), pending) for tid in ids]


def timeline(conn: Connection, run_id: str, limit: int = 200_000) -> dict[str, Any]:
    """Every try as (task, try, app, start, end, state) in parallel arrays, by start."""
    y, t = s.try_, s.task
    column, convert = Q.epoch_ms(conn)
    query = (sa.select(y.c.task_id, y.c.try_id, t.c.task_func_name,
                       column(y.c.task_try_time_launched), column(y.c.task_try_time_returned),
                       y.c.hostname)
             .select_from(y.join(t, sa.and_(t.c.task_id == y.c.task_id, t.c.run_id == run_id)))
             .where(y.c.run_id == run_id)
             .order_by(y.c.task_try_time_launched).limit(limit))
    finals = Q.final_states(conn, run_id)
    rows = conn.execute(query).all()
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[]] * 6
    tids, tries, names, starts, ends, hosts = columns  # transposed: one list per field
    apps: dict[str, int] = {}
    launched, index = _STATE_INDEX["launched"], _STATE_INDEX
    app = [apps.setdefault(a, len(apps)) for a in names]
    return {"apps": list(apps), "states": STATES, "task": tids, "try": tries, "app": app,
            "start": [convert(x) for x in starts], "end": [convert(x) for x in ends],
            "state": [index.get(finals.get(t, ""), launched) for t in tids], "host": hosts}


def task(conn: Connection, run_id: str, task_id: int) -> dict[str, Any] | None:
    """One task's record, states, tries, failures, resource samples and output tails."""
    detail = Q.task_detail(conn, run_id, task_id)
    if detail is None:
        return None
    detail["stdout_tail"] = Q.tail(detail.get("task_stdout"))
    detail["stderr_tail"] = Q.tail(detail.get("task_stderr"))
    detail["dependents"] = Q.dependents(conn, run_id).get(task_id, [])[:200]
    return _jsonable(detail)


def resources(conn: Connection, run_id: str) -> dict[str, Any]:
    """Resource samples as parallel arrays, oldest first."""
    keys = ("task_id", "try_id", "timestamp", "psutil_process_time_user",
            "psutil_process_time_system", "psutil_process_memory_resident",
            "psutil_process_disk_read", "psutil_process_disk_write")
    out: dict[str, list[Any]] = {k: [] for k in keys}
    for sample in Q.resource_series(conn, run_id):
        for k in keys:
            out[k].append(ms(sample[k]) if k == "timestamp" else sample[k])
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.datetime):
        return ms(value)
    return value


def report(conn: Connection, run_id: str) -> dict[str, Any]:
    """Everything the self-contained report shows, in one dict."""
    data = summary(conn, run_id)
    rid = data["run"]["run_id"]
    data["apps"] = apps(conn, rid)
    data["graph"] = graph(conn, rid)
    data["timeline"] = timeline(conn, rid)
    data["resources"] = resources(conn, rid)
    data["tasks"] = {str(f["task_id"]): task(conn, rid, f["task_id"])
                     for f in data["failures"][:100]}
    return data
