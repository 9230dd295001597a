#!/usr/bin/env python3
"""Baseline: Ray remote tasks on one node.

    /work/venvs/ray/bin/python benchmarks/baselines/ray_tasks.py [--quick]

ray.init(num_cpus=2): time to init + first result, no-op task throughput
(submit N, ray.get all), single round-trip latency, 1 MB argument / 1 MB result
bandwidth (MB/s counting both directions).  Prints human-readable lines and,
last, one JSON line.
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

MB = 1_000_000


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = args.quick
    N_TPUT = 2_000 if q else 10_000
    N_LAT = 200 if q else 1_000
    N_MB = 100 if q else 500

    t_imp = time.perf_counter()
    import ray

    import_s = time.perf_counter() - t_imp

    out = {
        "bench": "ray_tasks",
        "ray_version": ray.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "quick": q,
        "import_ray_s_in_process": import_s,
    }

    @ray.remote
    def noop():
        return 7

    @ray.remote
    def echo_mb(data):
        return bytes(len(data))

    tmp = tempfile.mkdtemp(prefix="ray_", dir="/tmp")
    t0 = time.perf_counter()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        _temp_dir=tmp,
        configure_logging=False,
    )
    try:
        assert ray.get(noop.remote()) == 7
        out["init_to_first_result_s"] = time.perf_counter() - t0
        print(f"ray.init -> first result {out['init_to_first_result_s']:.2f} s", flush=True)

        ray.get([noop.remote() for _ in range(500)])  # warm-up (starts both workers)

        rates, submit_rates = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            refs = [noop.remote() for _ in range(N_TPUT)]
            t1 = time.perf_counter()
            ray.get(refs)
            t2 = time.perf_counter()
            rates.append(N_TPUT / (t2 - t0))
            submit_rates.append(N_TPUT / (t1 - t0))
            del refs
        out["throughput_tasks_per_s"] = statistics.median(rates)
        out["throughput_all"] = rates
        out["submit_rate_tasks_per_s"] = statistics.median(submit_rates)
        out["throughput_batch"] = N_TPUT
        print(
            f"throughput {out['throughput_tasks_per_s']:.0f} tasks/s (batch {N_TPUT}), "
            f"submit rate {out['submit_rate_tasks_per_s']:.0f} tasks/s",
            flush=True,
        )

        lat = []
        for _ in range(N_LAT):
            t0 = time.perf_counter()
            ray.get(noop.remote())
            lat.append(time.perf_counter() - t0)
        out["latency"] = percentiles(lat)
        print(
            f"latency p50 {out['latency']['p50_us']:.0f} us, p90 {out['latency']['p90_us']:.0f} us, "
            f"p99 {out['latency']['p99_us']:.0f} us",
            flush=True,
        )

        payload = bytes(MB)
        ray.get(echo_mb.remote(payload))  # warm-up
        t0 = time.perf_counter()
        refs = [echo_mb.remote(payload) for _ in range(N_MB)]
        total = 0
        for r in refs:  # fetch one at a time so results need not all be resident at once
            total += len(ray.get(r))
        dt = time.perf_counter() - t0
        assert total == N_MB * MB
        out["mb_1in_1out"] = {
            "tasks": N_MB,
            "wall_s": dt,
            "MB_per_s_both_directions": 2 * N_MB / dt,
        }
        print(f"1MB in/1MB out x{N_MB}: {2 * N_MB / dt:.0f} MB/s ({dt:.2f} s)", flush=True)
    finally:
        t0 = time.perf_counter()
        ray.shutdown()
        out["shutdown_s"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
