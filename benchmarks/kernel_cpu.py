#!/usr/bin/env python3
"""CPU time per task in the kernel on threads: a comparison that a loaded machine disturbs less.

    .venv/bin/python benchmarks/kernel_cpu.py [--tasks 20000] [--trips 2000] [--chain 1000]

Runs no-op python apps on a ThreadPoolExecutor (2 threads, no log file) through the
DataFlowKernel: bursts of 1,000 tasks, sequential round trips, and a dependent chain; prints
the process's CPU microseconds (user + system, every thread) per task in each phase. Wall-clock
rates swing by 2x on a shared machine; CPU per task moves far less, so two trees are compared
by running this alternately with ``PYTHONPATH=<tree>/src`` (see benchmarks/pilot_cpu.py for
the pilot executor).
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time

import plait
from plait import Config, ThreadPoolExecutor, python_app


@python_app
def noop(x: object = None) -> object:
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--trips", type=int, default=2000)
    parser.add_argument("--chain", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as run_dir:
        plait.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=run_dir,
                          initialize_logging=False))
        try:
            noop().result(timeout=60)
            cpu = [time.process_time()]
            began = time.perf_counter()
            for _ in range(max(1, args.tasks // 1000)):
                for fut in [noop() for _ in range(1000)]:
                    fut.result(timeout=60)
            wall = time.perf_counter() - began
            cpu.append(time.process_time())
            for _ in range(args.trips):
                noop().result(timeout=60)
            cpu.append(time.process_time())
            fut = noop()
            for _ in range(args.chain - 1):
                fut = noop(fut)
            fut.result(timeout=60)
            cpu.append(time.process_time())
        finally:
            plait.dfk().cleanup()
            plait.clear()
    counts = (max(1, args.tasks // 1000) * 1000, args.trips, args.chain)
    burst, trip, chain = ((b - a) / n * 1e6
                          for (a, b), n in zip(itertools.pairwise(cpu), counts, strict=True))
    print(f"load {os.getloadavg()[0]:.2f}; CPU us per task: bursts {burst:.1f}, round trips "
          f"{trip:.1f}, chain {chain:.1f}; bursts ran {counts[0] / wall:.0f} tasks/s")


if __name__ == "__main__":
    main()
