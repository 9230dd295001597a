#!/usr/bin/env python3
"""CPU time per task in each pilot process: a comparison that a loaded machine disturbs less.

    .venv/bin/python benchmarks/pilot_cpu.py [--tasks 20000] [--trips 2000]

Runs no-op tasks through HighThroughputExecutor (one LocalProvider block, 2 workers,
encrypted) in bursts of 1,000, then sequential round trips, and prints the CPU microseconds
(user + system) the submitter, the interchange and the manager spent per task in each
phase. Wall-clock rates swing by 2x on a shared machine; CPU per task moves far less, so
two trees are compared by running this alternately with ``PYTHONPATH=<tree>/src``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pilot_perf, next to this
from pilot_perf import make_executor, noop


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--trips", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as run_dir:
        ex = make_executor(run_dir, None, True)
        ex.start()
        try:
            ex.submit(noop, {}).result(timeout=60)
            (manager,) = ex.connected_managers()
            procs = [psutil.Process(), psutil.Process(ex._client.child.pid),
                     psutil.Process(manager["pid"])]
            before = [cpu_seconds(p) for p in procs]
            began = time.perf_counter()
            for _ in range(args.tasks // 1000):
                for fut in [ex.submit(noop, {}) for _ in range(1000)]:
                    fut.result(timeout=60)
            wall = time.perf_counter() - began
            middle = [cpu_seconds(p) for p in procs]
            for _ in range(args.trips):
                ex.submit(noop, {}).result(timeout=60)
            after = [cpu_seconds(p) for p in procs]
        finally:
            ex.shutdown()
    burst = [(b - a) / args.tasks * 1e6 for a, b in zip(before, middle, strict=True)]
    trip = [(b - a) / args.trips * 1e6 for a, b in zip(middle, after, strict=True)]
    print(f"load {os.getloadavg()[0]:.2f}; CPU us per task, submitter/interchange/manager: "
          f"bursts {burst[0]:.1f} {burst[1]:.1f} {burst[2]:.1f}, round trips "
          f"{trip[0]:.0f} {trip[1]:.0f} {trip[2]:.0f}; bursts ran {args.tasks / wall:.0f} "
          "tasks/s")


if __name__ == "__main__":
    main()
