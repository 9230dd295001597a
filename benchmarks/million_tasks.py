#!/usr/bin/env python3
"""A million no-op tasks through the kernel, on threads and on the pilot executor.

    .venv/bin/python benchmarks/million_tasks.py [--tasks N] [--only threads|pilot]

Each run is a fresh subprocess: ``plait.load`` a config, submit N no-op apps keeping every
future (as a script that collects its futures does), then wait for them in order. Reports
tasks/s, the submitter's peak RSS (and per task), and for the pilot executor the peak RSS of
the interchange and the manager (sampled every 50 ms) and what they hold per queued task.
Prints one line per run and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = {"threads": os.path.join(HERE, "configs", "local_threads_nolog.py"),
           "pilot": os.path.join(HERE, "configs", "htex_local.py")}


def child(kind: str, n: int) -> None:
    import psutil

    import plait
    from plait import python_app
    from plait.benchmark.perf import load_config

    @python_app
    def noop() -> int:
        return 7

    peaks: dict[str, int] = {}
    procs: dict[str, Any] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):  # a sampling period, not synchronisation
            for name, proc in list(procs.items()):
                try:
                    peaks[name] = max(peaks.get(name, 0), proc.memory_info().rss)
                except psutil.Error:
                    pass

    with plait.load(load_config(CONFIGS[kind])) as dfk:
        noop().result()
        if kind == "pilot":
            (ex,) = [e for label, e in dfk.executors.items() if label != "_parsl_internal"]
            procs["interchange"] = psutil.Process(ex._client.child.pid)
            procs["manager"] = psutil.Process(ex.connected_managers()[0]["pid"])
            base = {k: p.memory_info().rss for k, p in procs.items()}
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rss0 = psutil.Process().memory_info().rss
        t0 = time.perf_counter()
        futs = [noop() for _ in range(n)]
        submitted = time.perf_counter()
        rss_submitted = psutil.Process().memory_info().rss
        for f in futs:
            if f.result() != 7:
                raise AssertionError("a no-op returned the wrong value")
        end = time.perf_counter()
        stop.set()
        sampler.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out: dict[str, Any] = {
        "kind": kind, "tasks": n, "submit_s": submitted - t0, "total_s": end - t0,
        "tasks_per_s": n / (end - t0), "submitter_peak_rss_MB": round(peak / 2**20, 1),
        "submitter_bytes_per_task_held": round((rss_submitted - rss0) / n, 1)}
    if kind == "pilot":
        for name in procs:
            out[f"{name}_peak_rss_MB"] = round(peaks.get(name, 0) / 2**20, 1)
            out[f"{name}_peak_bytes_per_task"] = round((peaks.get(name, 0) - base[name]) / n, 1)
    print(json.dumps(out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--only", choices=sorted(CONFIGS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.tasks)
        return
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()[0]}
    for kind in [args.only] if args.only else ["threads", "pilot"]:
        run = subprocess.run([sys.executable, __file__, "--child", kind, "--tasks",
                              str(args.tasks)], capture_output=True, text=True, check=True)
        results[kind] = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{kind}: {results[kind]}", flush=True)
    results["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
