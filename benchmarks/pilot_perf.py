#!/usr/bin/env python3
"""Benchmark of plait's pilot executor (HighThroughputExecutor) used directly, without a kernel.

    .venv/bin/python benchmarks/pilot_perf.py [--quick] [--prefetch N|auto] [--plain]
    .venv/bin/python benchmarks/pilot_perf.py --scale-only [--managers 1000]

Measures, with 2 workers on one LocalProvider block and no-op tasks: throughput (batches of a
few thousand), single-task round trip, a chain of 1,000 dependent tasks, 500 tasks with a 1 MB
argument and a 1 MB result, start() to first result, worker import time and memory; then an
interchange scale simulation (~1,000 simulated managers with 32 workers each, in a few
processes: dispatch rate and interchange RSS); and stdlib ProcessPoolExecutor(2) throughput in
the same run for the ratio. Prints one line per figure and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import psutil

MB = 1_000_000


def noop() -> None:
    return None


def echo(x: Any) -> Any:
    return x


def pct(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)

    def pick(q: float) -> float:
        return s[min(len(s) - 1, int(q * len(s)))] * 1e3

    return {"median_ms": pick(0.5), "p90_ms": pick(0.9), "p99_ms": pick(0.99)}


def make_executor(run_dir: str, prefetch: int | None, encrypted: bool,
                  init_blocks: int = 1, **kw: Any) -> Any:
    from plait.executors.pilot._executor import HighThroughputExecutor
    from plait.providers import LocalProvider

    here = os.path.dirname(os.path.abspath(__file__))
    provider = LocalProvider(init_blocks=init_blocks, walltime=None, cancel_grace=0.5,
                             worker_init=f"export PYTHONPATH={here}:$PYTHONPATH")
    ex = HighThroughputExecutor(label="bench", provider=provider, max_workers_per_node=2,
                                address="127.0.0.1", prefetch_capacity=prefetch,
                                encrypted=encrypted, **kw)
    ex.run_dir = run_dir
    return ex


def throughput(submit: Any, n: int, repeats: int) -> list[float]:
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        futs = [submit() for _ in range(n)]
        for f in futs:
            f.result(timeout=600)
        rates.append(n / (time.perf_counter() - t0))
    return rates


def chain(ex: Any, n: int) -> float:
    done = threading.Event()
    count = [0]

    def next_one(fut: Any) -> None:
        fut.result()
        count[0] += 1
        if count[0] == n:
            done.set()
        else:
            ex.submit(noop, {}).add_done_callback(next_one)

    t0 = time.perf_counter()
    ex.submit(noop, {}).add_done_callback(next_one)
    if not done.wait(300):
        raise RuntimeError("chain did not finish")
    return time.perf_counter() - t0


def worker_import_time() -> float:
    code = ("import time; t = time.perf_counter(); import plait.executors.pilot._worker; "
            "print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                 text=True, check=True).stdout) for _ in range(3)]
    return min(runs)


def pilot_figures(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    n_tput, n_lat, n_chain, n_mb = (1000, 200, 200, 100) if quick else (5000, 2000, 1000, 500)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as run_dir:
        ex = make_executor(run_dir, args.prefetch, args.encrypted)
        t0 = time.perf_counter()
        ex.start()
        ex.submit(noop, {}).result(timeout=120)
        out["start_to_first_result_s"] = time.perf_counter() - t0
        try:
            rates = throughput(lambda: ex.submit(noop, {}), n_tput, 3)
            out["throughput_tasks_per_s"] = {"best": max(rates),
                                             "median": statistics.median(rates)}
            lat = []
            for _ in range(n_lat):
                t = time.perf_counter()
                ex.submit(noop, {}).result(timeout=60)
                lat.append(time.perf_counter() - t)
            out["round_trip"] = pct(lat)
            out["round_trip_cpu_us"] = round_trip_cpu(ex, n_lat)
            out[f"chain_{n_chain}_s"] = chain(ex, n_chain)
            blob = os.urandom(MB)
            t = time.perf_counter()
            futs = [ex.submit(echo, {}, blob) for _ in range(n_mb)]
            for f in futs:
                assert len(f.result(timeout=600)) == MB
            el = time.perf_counter() - t
            out["payload_1MB"] = {"tasks": n_mb, "seconds": el,
                                  "MB_per_s_each_way": n_mb / el,
                                  "tasks_per_s": n_mb / el}
            (mgr,) = ex.connected_managers()
            workers = psutil.Process(mgr["pid"]).children()
            out["worker_rss_MB"] = [round(w.memory_info().rss / 2**20, 1) for w in workers]
            out["manager_rss_MB"] = round(psutil.Process(mgr["pid"]).memory_info().rss / 2**20, 1)
        finally:
            ex.shutdown()
    out["worker_import_s"] = worker_import_time()
    return out


def round_trip_cpu(ex: Any, n: int) -> dict[str, float]:
    """Where a round trip's time goes: CPU microseconds per sequential task in each process
    (user + system, every thread; ZeroMQ's I/O threads included), and the wall time per task;
    what the CPU times do not cover is waiting for wake-ups and the scheduler."""
    procs = pilot_processes(ex)

    def cpu() -> dict[str, float]:
        out = {}
        for name, proc in procs.items():
            t = proc.cpu_times()
            out[name] = t.user + t.system
        return out

    before = cpu()
    t = time.perf_counter()
    for _ in range(n):
        ex.submit(noop, {}).result(timeout=60)
    wall = time.perf_counter() - t
    after = cpu()
    per = {name: round((after[name] - before[name]) / n * 1e6, 1) for name in procs}
    per["wall"] = round(wall / n * 1e6, 1)
    per["cpu_total"] = round(sum(v for k, v in per.items() if k != "wall"), 1)
    return per


def pool_payload(n: int) -> float:
    """ProcessPoolExecutor(2): the same 1 MB in + 1 MB out workload, MB/s each way."""
    blob = os.urandom(MB)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        pool.submit(noop).result()
        t = time.perf_counter()
        futs = [pool.submit(echo, blob) for _ in range(n)]
        for f in futs:
            assert len(f.result(timeout=600)) == MB
        return n / (time.perf_counter() - t)


class PeakRSS:
    """Samples the resident memory of some processes every few ms; keeps each one's peak."""

    def __init__(self, procs: dict[str, psutil.Process]) -> None:
        self.procs, self.peak = procs, dict.fromkeys(procs, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.003):  # a sampling period, not synchronisation
            for name, proc in self.procs.items():
                try:
                    self.peak[name] = max(self.peak[name], proc.memory_info().rss)
                except psutil.Error:
                    pass

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pilot_processes(ex: Any) -> dict[str, psutil.Process]:
    (mgr,) = ex.connected_managers()
    manager = psutil.Process(mgr["pid"])
    procs = {"submitter": psutil.Process(), "interchange": psutil.Process(ex._client.child.pid),
             "manager": manager}
    for i, w in enumerate(manager.children()):
        procs[f"worker{i}"] = w
    return procs


def large_argument(size_mb: int) -> dict[str, Any]:
    """One task with a ``size_mb`` MB argument and result: each process's peak RSS growth,
    in multiples of the argument's size."""
    with tempfile.TemporaryDirectory() as run_dir:
        ex = make_executor(run_dir, None, False)
        ex.start()
        try:
            ex.submit(noop, {}).result(timeout=120)
            procs = pilot_processes(ex)
            base = {n: p.memory_info().rss for n, p in procs.items()}
            blob = bytes(size_mb * MB)
            base["submitter"] += len(blob)  # the argument itself is the user's, not ours
            with PeakRSS(procs) as rss:
                t = time.perf_counter()
                got = ex.submit(echo, {}, blob).result(timeout=600)
                seconds = time.perf_counter() - t
            assert len(got) == len(blob)
            del got
            return {"argument_MB": size_mb, "seconds": seconds,
                    "peak_growth_x_argument": {n: round((rss.peak[n] - base[n]) / len(blob), 2)
                                               for n in procs}}
        finally:
            ex.shutdown()


def digest_len(x: Any) -> int:
    return len(x)


def shared_argument(n_tasks: int, size_mb: int, n_plain: int) -> dict[str, Any]:
    """``n_tasks`` tasks sharing one ``size_mb`` MB argument, with the shared-object cache
    (bytes: digest remembered; bytearray: hashed at each submit), and ``n_plain`` tasks
    without it (at most 4 in flight: unbounded, every copy would queue in the interchange)."""
    out: dict[str, Any] = {"tasks": n_tasks, "argument_MB": size_mb}
    data = os.urandom(size_mb * MB)
    for label, cache, obj in (("cached_bytes", 1 << 30, data),
                              ("cached_bytearray", 1 << 30, bytearray(data)),
                              ("uncached_bytes", 0, data)):
        with tempfile.TemporaryDirectory() as run_dir:
            ex = make_executor(run_dir, None, False, shared_cache_bytes=cache)
            ex.start()
            try:
                ex.submit(noop, {}).result(timeout=120)
                procs = pilot_processes(ex)
                base = {n: p.memory_info().rss for n, p in procs.items()}
                t = time.perf_counter()
                if cache:
                    futs = [ex.submit(digest_len, {}, obj) for _ in range(n_tasks)]
                    n = n_tasks
                else:
                    futs, n = [], n_plain
                    for _ in range(n_plain):
                        futs.append(ex.submit(digest_len, {}, obj))
                        if len(futs) >= 4:
                            futs[-4].result(timeout=600)
                assert all(f.result(timeout=600) == len(data) for f in futs)
                el = time.perf_counter() - t
                growth = {k: round((p.memory_info().rss - base[k]) / MB, 1)
                          for k, p in procs.items()}
                out[label] = {"tasks": n, "seconds": el, "tasks_per_s": n / el,
                              "rss_growth_MB": growth}
            finally:
                ex.shutdown()
    out["speedup_cached_bytes"] = (out["cached_bytes"]["tasks_per_s"]
                                   / out["uncached_bytes"]["tasks_per_s"])
    out["speedup_cached_bytearray"] = (out["cached_bytearray"]["tasks_per_s"]
                                       / out["uncached_bytes"]["tasks_per_s"])
    return out


def pool_throughput(n: int) -> float:
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        pool.submit(noop).result()
        return max(throughput(lambda: pool.submit(noop), n, 3))


# -- interchange scale simulation ---------------------------------------------------------------
SIM = r'''
import sys, zmq, pickle
from plait.executors.pilot import _protocol as P
from plait.serialize import pack_value
port, first, count, workers = (int(a) for a in sys.argv[1:5])
ctx = zmq.Context()
poller = zmq.Poller()
socks = []
result = pack_value(None)[0]
for i in range(first, first + count):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.IDENTITY, f"sim{i}".encode())
    s.setsockopt(zmq.LINGER, 0)
    s.connect(f"tcp://127.0.0.1:{port}")
    reg = {"versions": P.local_versions(), "hostname": "sim", "block_id": str(i),
           "workers": workers, "prefetch_capacity": 0, "cores_per_worker": 1.0,
           "mem_per_worker": 0, "cores_total": workers, "mem_total": 1e9, "pid": 0}
    s.send_multipart([P.REGISTER, P.dumps(reg)])
    poller.register(s, zmq.POLLIN)
    socks.append(s)
print("ready", flush=True)
while True:
    for s, _ in poller.poll():
        while True:
            try:
                frames = s.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            if frames[0] == P.TASKS:
                tasks = pickle.loads(frames[1])[1]
                meta = [(task[0], 0, 1) for task in tasks]
                s.send_multipart([P.RESULTS, P.dumps(meta)] + [result] * len(meta))
            elif frames[0] == P.EXIT:
                sys.exit(0)
'''


def scale_simulation(managers: int, workers: int, procs: int, n_tasks: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as run_dir:
        ex = make_executor(run_dir, None, False, init_blocks=0, heartbeat_period=30,
                           heartbeat_threshold=300)
        ex.start()
        sims = []
        try:
            per = managers // procs
            for p in range(procs):
                sims.append(subprocess.Popen(
                    [sys.executable, "-c", SIM, str(ex.worker_port), str(p * per), str(per),
                     str(workers)], stdout=subprocess.PIPE, text=True))
            for sim in sims:
                assert sim.stdout is not None and sim.stdout.readline().strip() == "ready"
            deadline = time.monotonic() + 60
            while len(ex.connected_managers()) < per * procs:
                if time.monotonic() > deadline:
                    raise RuntimeError("simulated managers did not all register")
                time.sleep(0.2)  # workload: waiting for ~1,000 registrations
            ix = psutil.Process(ex._client.child.pid)
            rss0 = ix.memory_info().rss
            rates = throughput(lambda: ex.submit(noop, {}), n_tasks, 2)
            return {"managers": per * procs, "workers_each": workers,
                    "dispatch_tasks_per_s": max(rates),
                    "interchange_rss_MB_idle": round(rss0 / 2**20, 1),
                    "interchange_rss_MB_after": round(ix.memory_info().rss / 2**20, 1)}
        finally:
            ex.shutdown()
            for sim in sims:
                sim.kill()
                sim.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--prefetch", default="auto")
    parser.add_argument("--plain", action="store_true",
                        help="encrypted=False (the default, as in Parsl, is CurveZMQ)")
    parser.add_argument("--scale-only", action="store_true")
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--payload-only", action="store_true",
                        help="only the payload figures: 1 MB vs ProcessPool, a large "
                             "argument's peak RSS, a shared argument")
    parser.add_argument("--large-mb", type=int, default=512,
                        help="size of the large argument (MB)")
    parser.add_argument("--shared-tasks", type=int, default=1000)
    parser.add_argument("--shared-mb", type=int, default=50)
    args = parser.parse_args()
    args.prefetch = None if args.prefetch == "auto" else int(args.prefetch)
    args.encrypted = not args.plain
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()[0],
                              "prefetch": args.prefetch, "encrypted": args.encrypted}
    if args.payload_only:
        result["pilot"] = pilot_figures(args)
        n_mb = 100 if args.quick else 500
        result["process_pool_1MB_per_s_each_way"] = pool_payload(n_mb)
        result["pilot_over_process_pool_1MB"] = (
            result["pilot"]["payload_1MB"]["MB_per_s_each_way"]
            / result["process_pool_1MB_per_s_each_way"])
        result["large_argument"] = large_argument(args.large_mb)
        result["shared_argument"] = shared_argument(args.shared_tasks, args.shared_mb,
                                                    max(20, args.shared_tasks // 20))
    elif not args.scale_only:
        result["pilot"] = pilot_figures(args)
        result["process_pool_2_tasks_per_s"] = pool_throughput(1000 if args.quick else 5000)
        ratio = result["pilot"]["throughput_tasks_per_s"]["best"] / \
            result["process_pool_2_tasks_per_s"]
        result["pilot_over_process_pool"] = ratio
    if not args.payload_only:
        result["scale"] = scale_simulation(args.managers, 32, 4,
                                           20_000 if args.quick else 100_000)
    result["load_avg_end"] = os.getloadavg()[0]
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
