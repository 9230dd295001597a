#!/usr/bin/env python3
"""Baseline: raw concurrent.futures pools (no Parsl).

    /work/venvs/parsl/bin/python benchmarks/baselines/stdlib_pools.py [--quick]

ThreadPoolExecutor(2): throughput (submit N no-op tasks, wait all) and single
round-trip latency.  ProcessPoolExecutor(2): the same, plus 1 MB argument /
1 MB result bandwidth (MB/s counting both directions).
Prints human-readable lines and, last, one JSON line.
"""

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait

MB = 1_000_000


def noop():
    return 7


def echo_mb(data):
    # 1 MB in, fresh 1 MB out
    return bytes(len(data))


def percentiles(samples):
    s = sorted(samples)
    n = len(s)

    def pick(q):
        return s[min(n - 1, int(q * n))]

    return {
        "p50_us": pick(0.50) * 1e6,
        "p90_us": pick(0.90) * 1e6,
        "p99_us": pick(0.99) * 1e6,
        "mean_us": statistics.fmean(s) * 1e6,
    }


def throughput(pool, n, repeats=3):
    wait([pool.submit(noop) for _ in range(min(n, 1000))])  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        futs = [pool.submit(noop) for _ in range(n)]
        wait(futs)
        rates.append(n / (time.perf_counter() - t0))
        del futs
    return statistics.median(rates), rates


def latency(pool, n):
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        pool.submit(noop).result()
        lat.append(time.perf_counter() - t0)
    return percentiles(lat)


def bandwidth(pool, n):
    payload = bytes(MB)
    pool.submit(echo_mb, payload).result()  # warm-up
    t0 = time.perf_counter()
    futs = [pool.submit(echo_mb, payload) for _ in range(n)]
    total = sum(len(f.result()) for f in futs)
    dt = time.perf_counter() - t0
    assert total == n * MB
    return {"tasks": n, "wall_s": dt, "MB_per_s_both_directions": 2 * n * MB / MB / dt}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = args.quick
    out = {
        "bench": "stdlib_pools",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "quick": q,
        "mp_start_method": multiprocessing.get_start_method(),
    }

    n_thr = 20_000 if q else 100_000
    with ThreadPoolExecutor(2) as pool:
        tput, all_ = throughput(pool, n_thr)
        lat = latency(pool, 1_000 if q else 10_000)
    out["threads"] = {
        "throughput_tasks_per_s": tput,
        "throughput_all": all_,
        "batch": n_thr,
        "latency": lat,
    }
    print(
        f"ThreadPoolExecutor(2): throughput {tput:.0f} tasks/s (batch {n_thr}); "
        f"latency p50 {lat['p50_us']:.1f} us p90 {lat['p90_us']:.1f} us p99 {lat['p99_us']:.1f} us",
        flush=True,
    )

    n_proc = 2_000 if q else 10_000
    t0 = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        pool.submit(noop).result()
        startup = time.perf_counter() - t0
        tput, all_ = throughput(pool, n_proc)
        lat = latency(pool, 200 if q else 1_000)
        bw = bandwidth(pool, 100 if q else 500)
    out["processes"] = {
        "startup_to_first_result_s": startup,
        "throughput_tasks_per_s": tput,
        "throughput_all": all_,
        "batch": n_proc,
        "latency": lat,
        "mb_1in_1out": bw,
    }
    print(
        f"ProcessPoolExecutor(2): startup->first result {startup * 1e3:.1f} ms; "
        f"throughput {tput:.0f} tasks/s (batch {n_proc}); "
        f"latency p50 {lat['p50_us']:.0f} us p90 {lat['p90_us']:.0f} us p99 {lat['p99_us']:.0f} us; "
        f"1MB in/1MB out x{bw['tasks']}: {bw['MB_per_s_both_directions']:.0f} MB/s",
        flush=True,
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
