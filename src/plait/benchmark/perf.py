"""plait-perf: batches of no-op apps against a config, reporting rates, latency and memory.

Usage: plait-perf --config FILE [--time S] [--iterate estimate|exponential|N1,N2,...]
       [--argsize BYTES] [--resources EXPR] [--latency N] [--chain N] [--memory N]
       [--stdlib] [--json]

The config file defines ``config`` or ``fresh_config()`` (as for parsl-perf).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gc
import json
import os
import resource
import runpy
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Generator
from typing import Any

import plait
from plait import Config, python_app


@python_app
def noop(payload: str = "", parsl_resource_specification: dict[str, Any] = {}) -> int:  # noqa: B006
    return 7


@python_app
def step(x: int) -> int:
    return x + 1


@python_app
def hold(gate: str) -> int:
    import os
    import time

    deadline = time.monotonic() + 600
    # Released by the benchmark once the queue is full: a file, so that process-based
    # executors (whose workers share no Event with this process) can be held too.
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.001)
    return 7


def load_config(path: str) -> Config:
    """The Config defined in ``path`` as ``config`` or ``fresh_config()``."""
    namespace = runpy.run_path(path)
    if "fresh_config" in namespace:
        config: Config = namespace["fresh_config"]()
        return config
    if "config" in namespace:
        config = namespace["config"]
        return config
    raise SystemExit(f"{path} defines neither `config` nor `fresh_config()`")


def run_batch(n: int, payload: str, resources: dict[str, Any]) -> dict[str, float]:
    """Submit ``n`` no-op tasks, wait for each in turn; return timings."""
    start = time.perf_counter()
    futs: list[cf.Future[Any]] = [
        noop(payload, parsl_resource_specification=resources) if resources else noop(payload)
        for _ in range(n)]
    submitted = time.perf_counter()
    for fut in futs:  # in submission order, as most scripts (and our baselines) wait
        if fut.result() != 7:
            raise AssertionError("a no-op task returned the wrong value")
    end = time.perf_counter()
    return {"tasks": n, "submit_s": submitted - start, "submit_rate": n / (submitted - start),
            "runtime_s": end - start, "tasks_per_s": n / (end - start)}


def batch_sizes(mode: str, target: float) -> Generator[int, float | None, None]:
    """Batch sizes: explicit list, doubling, or sized from the previous rate ('estimate')."""
    if mode not in ("estimate", "exponential"):
        yield from (int(x) for x in mode.split(","))
        return
    n = 10
    while True:
        runtime = yield n
        if runtime is None:
            return
        n = n * 2 if mode == "exponential" else max(10, int(n * target / max(runtime, 1e-3)))


def latency(n: int) -> dict[str, float]:
    """Round trip of one task at a time, in milliseconds."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        noop().result()
        samples.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": statistics.median(samples), "p90_ms": q[89], "p99_ms": q[98]}


def chain(n: int) -> float:
    """Seconds for ``n`` tasks each depending on the previous one."""
    start = time.perf_counter()
    fut = step(0)
    for _ in range(n - 1):
        fut = step(fut)
    if fut.result() != n:
        raise AssertionError("chain computed the wrong value")
    return time.perf_counter() - start


def _traced(fn: Callable[[], Any]) -> tuple[int, Any]:
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    kept = fn()
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before, kept


def memory(n: int, workers: int) -> dict[str, float]:
    """Bytes retained per finished task once the user dropped its future, and bytes held
    per task in flight (queued behind busy workers)."""
    dfk = plait.dfk()
    _run_and_forget(1000, dfk)  # warm caches so they do not count as per-task memory
    tracemalloc.start()
    gate = os.path.join(tempfile.mkdtemp(prefix="plait-perf-"), "release")
    try:
        retained, _ = _traced(lambda: _run_and_forget(n, dfk))
        blockers = [hold(gate) for _ in range(workers)]
        in_flight, futs = _traced(lambda: [noop() for _ in range(n)])
    finally:
        open(gate, "w").close()
        tracemalloc.stop()
    for f in blockers + futs:
        f.result()
    shutil.rmtree(os.path.dirname(gate), ignore_errors=True)
    return {"in_flight_bytes_per_task": in_flight / n, "retained_bytes_per_task": retained / n}


def _run_and_forget(n: int, dfk: Any) -> None:
    for fut in [noop() for _ in range(n)]:
        fut.result()
    dfk.wait_for_current_tasks()


def stdlib_rate(n: int, workers: int) -> float:
    """Tasks/s of concurrent.futures.ThreadPoolExecutor with the same no-op, for a ratio."""
    with cf.ThreadPoolExecutor(workers) as pool:
        start = time.perf_counter()
        futs = [pool.submit(int, 7) for _ in range(n)]
        for f in futs:
            f.result()
        return n / (time.perf_counter() - start)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="plait-perf", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="file defining config or fresh_config()")
    p.add_argument("--time", type=float, default=10.0, help="target seconds per batch")
    p.add_argument("--iterate", default="estimate",
                   help="estimate (default), exponential, or a list N1,N2,...")
    p.add_argument("--argsize", type=int, default=0, help="bytes of payload per task")
    p.add_argument("--resources", default="{}", help="parsl_resource_specification (JSON)")
    p.add_argument("--latency", type=int, default=1000, help="sequential round trips")
    p.add_argument("--chain", type=int, default=1000, help="length of a dependent chain")
    p.add_argument("--memory", type=int, default=0,
                   help="tasks for the memory measurement (0: skip)")
    p.add_argument("--stdlib", action="store_true",
                   help="also time concurrent.futures.ThreadPoolExecutor for a ratio")
    p.add_argument("--json", action="store_true", help="print one JSON line at the end")
    p.add_argument("--version", action="version", version=plait.__version__)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``plait-perf``."""
    run(argv)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print a report; return the figures."""
    args = parse_args(argv)
    report: dict[str, Any] = {"batches": []}
    payload, resources = "x" * args.argsize, json.loads(args.resources)
    with plait.load(load_config(args.config)) as dfk:
        sizes = batch_sizes(args.iterate, args.time)
        n = next(sizes)
        while True:
            batch = run_batch(n, payload, resources)
            report["batches"].append(batch)
            print(f"{n:>8} tasks: submit {batch['submit_rate']:>9.0f}/s, "
                  f"{batch['tasks_per_s']:>9.0f} tasks/s, {batch['runtime_s']:.3f} s")
            done = len(report["batches"]) >= 2 and batch["runtime_s"] >= 0.75 * args.time
            try:
                n = sizes.send(None if done else batch["runtime_s"])
            except StopIteration:
                break
        if args.latency:
            report["latency"] = latency(args.latency)
            print("latency: p50 {p50_ms:.3f} ms, p90 {p90_ms:.3f} ms, "
                  "p99 {p99_ms:.3f} ms".format(**report["latency"]))
        if args.chain:
            report["chain_s"] = chain(args.chain)
            print(f"chain of {args.chain}: {report['chain_s']:.3f} s")
        workers = sum(getattr(e, "max_threads", 0) or getattr(e, "max_workers_per_node", 0)
                      or 1 for label, e in dfk.executors.items() if label != "_parsl_internal")
        if args.memory:
            report["memory"] = memory(args.memory, workers)
            print("memory: {in_flight_bytes_per_task:.0f} B per task in flight, "
                  "{retained_bytes_per_task:.1f} B retained per finished task"
                  .format(**report["memory"]))
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {report['peak_rss_mb']:.0f} MB")
    if args.stdlib:
        n = max(b["tasks"] for b in report["batches"])
        report["stdlib_tasks_per_s"] = stdlib_rate(n, workers)
        best = max(b["tasks_per_s"] for b in report["batches"])
        print(f"stdlib ThreadPoolExecutor: {report['stdlib_tasks_per_s']:.0f} tasks/s; "
              f"plait reaches {best / report['stdlib_tasks_per_s']:.0%} of it")
    if args.json:
        print(json.dumps(report))
    return report
