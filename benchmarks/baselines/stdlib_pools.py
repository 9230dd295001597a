#!/usr/bin/env python3
"""Baseline: raw concurrent.futures pools (no Parsl).

    /work/venvs/parsl/bin/python benchmarks/baselines/stdlib_pools.py [--quick]

ThreadPoolExecutor(2): throughput (submit N no-op tasks, wait all) and single
round-trip latency.  ProcessPoolExecutor(2): the same, plus 1 MB argument /
1 MB result bandwidth (MB/s counting both directions).
Prints human-readable lines and, last, one JSON line.
"""

import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait

import _measure


def noop():
    return 7


def echo_mb(data):
    # 1 MB in, fresh 1 MB out
    return bytes(len(data))


def measure_pool(pool, n_tput, n_lat):
    """No-op throughput (after min(n, 1000) warm-up tasks) and sequential latency."""
    tput = _measure.throughput(
        lambda: pool.submit(noop), wait, n_tput, repeats=3, warmup=min(n_tput, 1000)
    )
    lat = _measure.latency(lambda: pool.submit(noop).result(), n_lat)
    return {
        "throughput_tasks_per_s": tput["throughput_tasks_per_s"],
        "throughput_all": tput["throughput_all"],
        "batch": n_tput,
        "latency": lat,
    }


def main():
    q = _measure.parse_quick()
    out = _measure.header("stdlib_pools", q)
    out["mp_start_method"] = multiprocessing.get_start_method()

    n_thr = 20_000 if q else 100_000
    with ThreadPoolExecutor(2) as pool:
        out["threads"] = r = measure_pool(pool, n_thr, 1_000 if q else 10_000)
    tput, lat = r["throughput_tasks_per_s"], r["latency"]
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
        r = measure_pool(pool, n_proc, 200 if q else 1_000)
        bw = _measure.bandwidth(
            lambda payload: pool.submit(echo_mb, payload), lambda f: f.result(), 100 if q else 500
        )
    out["processes"] = {"startup_to_first_result_s": startup, **r, "mb_1in_1out": bw}
    tput, lat = r["throughput_tasks_per_s"], r["latency"]
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
