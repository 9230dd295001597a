#!/usr/bin/env python3
"""Monitoring database figures: size per 10k tasks, the writer's lag on a big run, query times
on it, and the dashboard's first paint.

    python benchmarks/monitoring_db.py size              # 10,000 tasks: bytes per 10k tasks
    python benchmarks/monitoring_db.py big --tasks 1000000 [--keep DIR]
    python benchmarks/monitoring_db.py dashboard --tasks 100000

``big`` runs that many no-op tasks on threads (one in a thousand fails; a tenth depend on
an earlier task) with monitoring on, and reports the run's wall time, the database writer's
largest lag (how old the newest record was when its batch committed), the time cleanup
waited for the writer, the database size, and the time of one workflow's failed-tasks query
(Parsl's way, on ``status``, and plait's ``failures()`` with exceptions). ``dashboard``
makes such a run, serves the dashboard and opens it in headless Chromium: time to first
paint of the run's page, to the graph drawn, and the graph's redraw time when zoomed out and
after zooming in (level of detail). Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from typing import Any

import plait
from plait import Config, ThreadPoolExecutor, python_app
from plait.monitoring import MonitoringHub


@python_app
def noop(x: int = 0) -> int:
    return x


@python_app
def fail(x: int) -> None:
    raise ValueError(f"bad input {x}")


def record_run(base: str, tasks: int, batch: int = 50_000) -> dict[str, Any]:
    """Run ``tasks`` no-op tasks with monitoring into ``base``/monitoring.db."""
    url = f"sqlite:///{base}/monitoring.db"
    config = Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=base,
                    monitoring=MonitoringHub(logging_endpoint=url), initialize_logging=False)
    t0 = time.perf_counter()
    dfk = plait.load(config)
    done = 0
    while done < tasks:
        n = min(batch, tasks - done)
        futures = []
        previous = None
        for i in range(done, done + n):
            if i % 1000 == 999:
                futures.append(fail(i))
            elif i % 10 == 5 and previous is not None:
                futures.append(noop(previous))
            else:
                futures.append(noop(i))
            previous = futures[-1]
        for f in futures:
            f.exception()
        done += n
    ran = time.perf_counter() - t0
    t1 = time.perf_counter()
    dfk.cleanup()
    cleanup = time.perf_counter() - t1
    plait.clear()
    with open(os.path.join(dfk.run_dir, "monitoring.log")) as fh:
        log = fh.read()
    stats = json.loads(re.findall(r"done after [\d.]+ s: (\{.*\})", log)[-1])
    return {"tasks": tasks, "run_s": ran, "tasks_per_s": tasks / ran,
            "cleanup_waiting_for_writer_s": cleanup, "writer": stats, "url": url,
            "run_id": dfk.run_id, "load": os.getloadavg()[0]}


def db_bytes(base: str) -> int:
    return sum(os.path.getsize(os.path.join(base, f)) for f in os.listdir(base)
               if f.startswith("monitoring.db"))


def queries(url: str, run_id: str) -> dict[str, float]:
    import sqlalchemy as sa

    from plait.monitoring import _queries as Q

    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for name, fn in [
            ("failed_ids_status_s", lambda: conn.execute(sa.text(
                "SELECT task_id FROM status WHERE run_id = :r AND task_status_name = 'failed'"
            ), {"r": run_id}).all()),
            ("failures_with_exceptions_s", lambda: Q.failures(conn, run_id)),
            ("counts_per_app_state_s", lambda: Q.progress(conn, run_id)),
            ("one_task_detail_s", lambda: Q.task_detail(conn, run_id, 4242)),
        ]:
            t = time.perf_counter()
            result = fn()
            out[name] = time.perf_counter() - t
            out[name.replace("_s", "_rows")] = len(result) if result is not None else 0
    engine.dispose()
    return out


def dashboard_paint(url: str, run_id: str) -> dict[str, Any]:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
    from browser import chromium, dashboard

    out: dict[str, Any] = {}
    with dashboard(url.removeprefix("sqlite:///")) as base, chromium() as browser:
        page = browser.new_page()
        t0 = time.perf_counter()
        page.goto(f"{base}#/run/{run_id}")
        page.wait_for_selector("[data-testid=total-tasks]", timeout=120_000)
        out["first_paint_s"] = time.perf_counter() - t0
        page.wait_for_selector("#graph[data-marks]", timeout=300_000)
        out["graph_drawn_s"] = time.perf_counter() - t0
        page.wait_for_selector("#gantt[data-bars]", timeout=300_000)
        out["timeline_drawn_s"] = time.perf_counter() - t0
        out["graph_overview_draw_ms"] = float(page.get_attribute("#graph", "data-draw-ms"))
        out["graph_overview_marks"] = int(page.get_attribute("#graph", "data-marks"))
        box = page.locator("#graph").bounding_box()
        draws = []
        for _ in range(10):  # zoom in step by step at the centre, as a user's wheel does
            page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
            page.mouse.wheel(0, -400)
            page.wait_for_timeout(50)
            draws.append(float(page.get_attribute("#graph", "data-draw-ms")))
        out["graph_zoom_draw_ms_max"] = max(draws)
        out["graph_zoomed_detail"] = page.get_attribute("#graph", "data-detail")
        out["graph_zoomed_marks"] = int(page.get_attribute("#graph", "data-marks"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("size", "big", "dashboard"))
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--keep", help="directory to keep the database in")
    args = parser.parse_args()
    base = args.keep or tempfile.mkdtemp(prefix="plait-mondb-")
    os.makedirs(base, exist_ok=True)
    try:
        if args.what == "size":
            run = record_run(base, args.tasks or 10_000)
            size = db_bytes(base)
            print(json.dumps({"bench": "monitoring_db_size", **run, "db_bytes": size,
                              "bytes_per_10k_tasks": size * 10_000 / run["tasks"]}))
        elif args.what == "big":
            run = record_run(base, args.tasks or 1_000_000)
            print(json.dumps({"bench": "monitoring_db_big", **run, "db_bytes": db_bytes(base),
                              **queries(run["url"], run["run_id"])}))
        else:
            run = record_run(base, args.tasks or 100_000)
            print(json.dumps({"bench": "monitoring_dashboard", **run,
                              **dashboard_paint(run["url"], run["run_id"])}))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
