#!/usr/bin/env python3
"""Overhead of memoization: 10,000 no-op tasks with cache=True + task_exit checkpointing,
against the same tasks without caching, on the thread executor.

    .venv/bin/python benchmarks/memo_overhead.py [--tasks 10000] [--repeats 5] [--threads 2]

Each repeat runs the variants back to back in this process, each with a fresh kernel and
run directory: ``plain`` (cache=False), ``memo_only`` (cache=True, no checkpoints: hash and
memo table), ``cached`` (cache=True, checkpoint_mode='task_exit', every task a miss: hash +
one checkpoint record written per task) and ``resumed`` (the same calls again, loading the
checkpoint of ``cached``: every task a hit). Prints the
best and median wall time of each, the ratios to ``plain`` (target for ``cached``: < 1.5x), the
cost of hashing alone per task, and one JSON line with all figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from typing import Any

import plait
from plait import Config, ThreadPoolExecutor, python_app
from plait.dataflow._memokey import make_hash
from plait.dataflow._task import Task


def noop(i: int) -> int:
    return i


plain_app = python_app(noop)
cached_app = python_app(cache=True)(noop)


def run(app: Any, n: int, run_dir: str, threads: int = 2,
        **options: Any) -> tuple[float, float, str]:
    """Run ``n`` calls of ``app`` on a fresh kernel: (wall s, process CPU s, last state)."""
    config = Config(executors=[ThreadPoolExecutor(max_threads=threads)], run_dir=run_dir,
                    strategy="none", **options)
    dfk = plait.load(config)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        futs = [app(i) for i in range(n)]
        for f in futs:
            f.result(timeout=300)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        state = futs[-1].task_record.state.name
    finally:
        dfk.cleanup()
        plait.clear()
    return elapsed, cpu, state


def hash_cost(n: int) -> float:
    tasks = [Task(i, "noop", noop, (i,), {}, None, "threads", cache=True)  # type: ignore[arg-type]
             for i in range(n)]
    start = time.perf_counter()
    for t in tasks:
        make_hash(t)
    return (time.perf_counter() - start) / n


VARIANTS: dict[str, tuple[Any, str, dict[str, Any], str]] = {
    # name: (app, run directory, Config options, state every task must end in)
    "plain": (plain_app, "plain", {}, "exec_done"),
    "memo_only": (cached_app, "nockpt", {}, "exec_done"),
    "cached": (cached_app, "memo", {"checkpoint_mode": "task_exit"}, "exec_done"),
    "resumed": (cached_app, "memo", {"checkpoint_mode": "task_exit"}, "memo_done"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2,
                        help="ThreadPoolExecutor max_threads (default 2, as in Parsl)")
    args = parser.parse_args()
    n = args.tasks
    wall: dict[str, list[float]] = {k: [] for k in VARIANTS}
    cpu: dict[str, list[float]] = {k: [] for k in VARIANTS}
    run(plain_app, 200, tempfile.mkdtemp(prefix="memo-warm-"))  # imports, thread start-up
    # the order rotates between repeats (``resumed`` always right after ``cached``, whose
    # checkpoint it loads), so no variant always runs after the same one
    groups = [["plain"], ["memo_only"], ["cached", "resumed"]]
    for r in range(args.repeats):
        order = [name for group in groups[r % 3:] + groups[:r % 3] for name in group]
        with tempfile.TemporaryDirectory(prefix="memo-bench-") as tmp:
            for name in order:
                app, subdir, options, expected = VARIANTS[name]
                w, c, state = run(app, n, f"{tmp}/{subdir}", args.threads, **options)
                assert state == expected, (name, state)
                wall[name].append(w)
                cpu[name].append(c)
    # best-of is the figure least disturbed by other load on the machine; medians and the
    # process CPU time (all threads) are shown too
    best = {k: min(v) for k, v in wall.items()}
    med = {k: statistics.median(v) for k, v in wall.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    per_hash = hash_cost(n)
    for name in VARIANTS:
        print(f"{name:9s} {n} tasks: best {best[name] * 1e3:7.1f} ms "
              f"({best[name] / n * 1e6:5.1f} us/task, {best[name] / best['plain']:.2f}x plain)"
              f"  median {med[name] * 1e3:7.1f} ms ({med[name] / med['plain']:.2f}x)"
              f"  cpu {cpu_med[name] * 1e3:7.1f} ms ({cpu_med[name] / cpu_med['plain']:.2f}x)")
    print(f"make_hash alone: {per_hash * 1e6:.2f} us/task")
    print(json.dumps({"tasks": n, "repeats": args.repeats, "threads": args.threads,
                      "best_s": best, "median_s": med,
                      "cpu_median_s": cpu_med,
                      "ratio_cached_best": best["cached"] / best["plain"],
                      "ratio_cached_median": med["cached"] / med["plain"],
                      "ratio_cached_cpu": cpu_med["cached"] / cpu_med["plain"],
                      "make_hash_us": per_hash * 1e6, "wall_s": wall, "cpu_s": cpu}))


if __name__ == "__main__":
    main()
