#!/usr/bin/env python3
"""Baseline: Ray remote tasks on one node.

    /work/venvs/ray/bin/python benchmarks/baselines/ray_tasks.py [--quick]

ray.init(num_cpus=2): time to init + first result, no-op task throughput
(submit N, ray.get all), single round-trip latency, 1 MB argument / 1 MB result
bandwidth (MB/s counting both directions).  Prints human-readable lines and,
last, one JSON line.
"""

import json
import tempfile
import time

import _measure


def main():
    q = _measure.parse_quick()
    N_TPUT = 2_000 if q else 10_000
    N_LAT = 200 if q else 1_000
    N_MB = 100 if q else 500

    t_imp = time.perf_counter()
    import ray

    import_s = time.perf_counter() - t_imp

    out = _measure.header("ray_tasks", q, ray_version=ray.__version__)
    out["import_ray_s_in_process"] = import_s

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

        # warm-up of 500 tasks starts both workers
        out.update(_measure.throughput(noop.remote, ray.get, N_TPUT, 3, warmup=500))
        print(_measure.throughput_line(out), flush=True)

        out["latency"] = _measure.latency(lambda: ray.get(noop.remote()), N_LAT)
        print(_measure.latency_line(out["latency"]), flush=True)

        # results are fetched one at a time, so they need not all be resident at once
        out["mb_1in_1out"] = _measure.bandwidth(echo_mb.remote, ray.get, N_MB)
        print(_measure.bandwidth_line(out["mb_1in_1out"]), flush=True)
    finally:
        t0 = time.perf_counter()
        ray.shutdown()
        out["shutdown_s"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
