"""A Prometheus exposition of task and block counts, for sites that scrape one.

Served at ``/metrics`` by ``plait dashboard``: for each run still running (and the latest
run), tasks per app and state, and blocks per executor and their latest status.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from plait.monitoring import _queries as Q
from plait.monitoring import _schema as s


def exposition(conn: Connection) -> bytes:
    """The text format of the current counts (prometheus_client's encoder)."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    tasks = Gauge("plait_tasks", "Tasks of a run in each state", ["run_id", "workflow", "app",
                                                                  "state"], registry=registry)
    blocks = Gauge("plait_blocks", "Blocks of a run by their latest status",
                   ["run_id", "executor", "status"], registry=registry)
    running = Gauge("plait_run_running", "1 while a run is recorded as running",
                    ["run_id", "workflow"], registry=registry)
    recent = Q.runs(conn, limit=20)
    shown = [r for r in recent if r.outcome == "running"] or recent[:1]
    for run in shown:
        running.labels(run.run_id, run.name or "").set(1 if run.outcome == "running" else 0)
        for app, states in run.counts.items():
            for state, n in states.items():
                tasks.labels(run.run_id, run.name or "", app, state).set(n)
        b = s.block
        latest: dict[tuple[str, str], str] = {}
        for executor, block_id, status in conn.execute(
                sa.select(b.c.executor_label, b.c.block_id, b.c.status)
                .where(b.c.run_id == run.run_id).order_by(b.c.timestamp)):
            latest[(executor, block_id)] = status
        per_status: dict[tuple[str, str], int] = {}
        for (executor, _), status in latest.items():
            per_status[(executor, status)] = per_status.get((executor, status), 0) + 1
        for (executor, status), n in per_status.items():
            blocks.labels(run.run_id, executor, status).set(n)
    return bytes(generate_latest(registry))
