#!/usr/bin/env python3
"""Parsl's HTTPSeparateTaskStaging on a given HTTP server: the baseline for staging_perf.py.

    /work/venvs/parsl/bin/python benchmarks/baselines/parsl_staging.py \
        --base URL --small N --big NAME --workdir DIR [--threads 8]

Stages in N small files (URL/small/f{i}.bin, one task each) and then one big file
(URL/NAME) on a ThreadPoolExecutor whose working_dir is DIR, with logging off (Parsl's best
case). Prints one JSON line: small files/s, the process's CPU microseconds per small file,
and big-file MB/s (each the best of --repeats; small files after a warm-up round).
"""

import argparse
import json
import os
import time

import parsl
from parsl import File, python_app
from parsl.config import Config
from parsl.data_provider.http import HTTPSeparateTaskStaging
from parsl.executors import ThreadPoolExecutor


@python_app
def size_of(inputs=()):
    import os

    return os.path.getsize(inputs[0])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--small", type=int, default=200)
    p.add_argument("--big", default="")
    p.add_argument("--workdir", required=True)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    ex = ThreadPoolExecutor(max_threads=args.threads, working_dir=args.workdir,
                            storage_access=[HTTPSeparateTaskStaging()])
    out = {"parsl": parsl.__version__}
    with parsl.load(Config(executors=[ex], initialize_logging=False,
                           run_dir=os.path.join(args.workdir, "runinfo"))):
        rates, cpus = [], []
        for _ in range(args.repeats + 1):  # the first round warms up, as for plait
            for name in os.listdir(args.workdir):  # new files each time, as for plait
                if name.startswith("f") and name.endswith(".bin"):
                    os.unlink(os.path.join(args.workdir, name))
            start, cpu = time.perf_counter(), time.process_time()
            futs = [size_of(inputs=[File(f"{args.base}/small/f{i}.bin")])
                    for i in range(args.small)]
            sizes = [f.result() for f in futs]
            rates.append(args.small / (time.perf_counter() - start))
            cpus.append((time.process_time() - cpu) / args.small * 1e6)
            assert all(s > 0 for s in sizes)
        out["small_files_per_s"] = max(rates[1:])
        out["small_cpu_us_per_file"] = min(cpus[1:])
        if args.big:
            speeds = []
            for _ in range(args.repeats):
                target = os.path.join(args.workdir, os.path.basename(args.big))
                if os.path.exists(target):
                    os.unlink(target)
                start = time.perf_counter()
                size = size_of(inputs=[File(f"{args.base}/{args.big}")]).result()
                speeds.append(size / 1e6 / (time.perf_counter() - start))
            out["big_MB_per_s"] = max(speeds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
