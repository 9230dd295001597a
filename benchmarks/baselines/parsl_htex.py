#!/usr/bin/env python3
"""Baseline: Parsl HighThroughputExecutor + LocalProvider on one node.

    /work/venvs/parsl/bin/python benchmarks/baselines/parsl_htex.py [--quick] [--logging default|off|both]

HTEX(max_workers_per_node=2, encrypted=True (the default), address=127.0.0.1),
LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1).  Each logging mode runs
in a fresh subprocess inside ``with parsl.load(config):`` so that everything is
cleaned up; afterwards the driver checks that no interchange / worker-pool
process is left behind.  Prints human-readable lines and, last, one JSON line.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import psutil

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


def ensure_venv_bin_on_path():
    # HTEX launches `interchange.py` and `process_worker_pool.py` by name, so the
    # venv's bin directory must be on PATH even when the venv is not activated.
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def run_mode(logging_mode, quick):
    ensure_venv_bin_on_path()
    import parsl
    from parsl import python_app
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    N_TPUT = 1_000 if quick else 5_000
    TPUT_REPEATS = 3
    N_LAT = 100 if quick else 500
    N_CHAIN = 200 if quick else 1_000
    N_MB = 100 if quick else 500

    @python_app
    def noop():
        return 7

    @python_app
    def dep(x):
        return x

    @python_app
    def echo_mb(data):
        return bytes(len(data))

    run_dir = tempfile.mkdtemp(prefix="parsl_htex_runinfo_", dir="/tmp")
    config = Config(
        executors=[
            HighThroughputExecutor(
                label="htex_local",
                address="127.0.0.1",
                max_workers_per_node=2,
                provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1),
            )
        ],
        run_dir=run_dir,
        initialize_logging=(logging_mode == "default"),
    )
    out = {"logging": logging_mode, "run_dir": run_dir}
    tag = f"[{logging_mode}]"

    t_load = time.perf_counter()
    with parsl.load(config):
        t_loaded = time.perf_counter()
        assert noop().result() == 7
        out["load_s"] = t_loaded - t_load
        out["load_to_first_result_s"] = time.perf_counter() - t_load
        print(
            f"{tag} parsl.load {out['load_s']:.3f} s; load -> first result "
            f"{out['load_to_first_result_s']:.3f} s",
            flush=True,
        )

        [f.result() for f in [noop() for _ in range(200)]]  # warm-up

        tputs, submit_rates = [], []
        for _ in range(TPUT_REPEATS):
            t0 = time.perf_counter()
            futs = [noop() for _ in range(N_TPUT)]
            t1 = time.perf_counter()
            for f in futs:
                f.result()
            t2 = time.perf_counter()
            tputs.append(N_TPUT / (t2 - t0))
            submit_rates.append(N_TPUT / (t1 - t0))
            del futs
        out["throughput_tasks_per_s"] = statistics.median(tputs)
        out["throughput_all"] = tputs
        out["submit_rate_tasks_per_s"] = statistics.median(submit_rates)
        out["throughput_batch"] = N_TPUT
        print(
            f"{tag} throughput {out['throughput_tasks_per_s']:.0f} tasks/s (batch {N_TPUT}), "
            f"submit rate {out['submit_rate_tasks_per_s']:.0f} tasks/s",
            flush=True,
        )

        lat = []
        for _ in range(N_LAT):
            t0 = time.perf_counter()
            noop().result()
            lat.append(time.perf_counter() - t0)
        out["latency"] = percentiles(lat)
        print(
            f"{tag} latency p50 {out['latency']['p50_us'] / 1e3:.2f} ms, "
            f"p90 {out['latency']['p90_us'] / 1e3:.2f} ms, p99 {out['latency']['p99_us'] / 1e3:.2f} ms",
            flush=True,
        )

        t0 = time.perf_counter()
        f = noop()
        for _ in range(N_CHAIN):
            f = dep(f)
        assert f.result() == 7
        out["chain_s"] = time.perf_counter() - t0
        out["chain_len"] = N_CHAIN
        print(f"{tag} chain of {N_CHAIN} dependent tasks: {out['chain_s']:.3f} s", flush=True)

        payload = bytes(MB)
        echo_mb(payload).result()  # warm-up
        t0 = time.perf_counter()
        futs = [echo_mb(payload) for _ in range(N_MB)]
        total = sum(len(f.result()) for f in futs)
        dt = time.perf_counter() - t0
        assert total == N_MB * MB
        del futs
        out["mb_1in_1out"] = {
            "tasks": N_MB,
            "wall_s": dt,
            "MB_per_s_both_directions": 2 * N_MB / dt,
        }
        print(f"{tag} 1MB in/1MB out x{N_MB}: {2 * N_MB / dt:.0f} MB/s ({dt:.2f} s)", flush=True)
        t_cleanup = time.perf_counter()
    out["cleanup_s"] = time.perf_counter() - t_cleanup
    parsl.clear()
    print(f"{tag} cleanup (exit of with-block) {out['cleanup_s']:.3f} s", flush=True)
    return out


def leftovers():
    """Processes that look like Parsl HTEX components, other than ourselves."""
    me = os.getpid()
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
        except Exception:
            continue
        if (
            p.info["pid"] != me
            and ("process_worker_pool" in cmd or "interchange" in cmd)
            and "parsl" in cmd
        ):
            found.append({"pid": p.info["pid"], "cmdline": cmd[:200]})
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--logging", choices=["default", "off", "both"], default="both")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    ensure_venv_bin_on_path()
    if args.child:
        print("CHILD_JSON " + json.dumps(run_mode(args.logging, args.quick)), flush=True)
        return

    from importlib.metadata import version

    result = {
        "bench": "parsl_htex",
        "parsl_version": version("parsl"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "quick": args.quick,
    }
    pre = leftovers()
    if pre:
        print(f"WARNING: HTEX processes already running before the benchmark: {pre}")
    modes = ["default", "off"] if args.logging == "both" else [args.logging]
    for mode in modes:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--logging", mode]
        if args.quick:
            cmd.append("--quick")
        child = None
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stdout, stderr = proc.communicate(timeout=280)
        except subprocess.TimeoutExpired:
            # kill the whole session we started (child + its interchange/workers)
            for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]:
                try:
                    p.kill()
                except psutil.Error:
                    pass
            stdout, stderr = proc.communicate()
            print(f"[{mode}] TIMEOUT")
        for line in stdout.splitlines():
            if line.startswith("CHILD_JSON "):
                child = json.loads(line[len("CHILD_JSON ") :])
            else:
                print(line)
        if proc.returncode != 0 or child is None:
            sys.stderr.write(stderr[-3000:])
            result[f"logging_{mode}"] = {"error": f"rc={proc.returncode}"}
        else:
            result[f"logging_{mode}"] = child
        time.sleep(1.0)
        left = [p for p in leftovers() if p not in pre]
        result[f"logging_{mode}_leftover_processes"] = left
        print(
            f"[{mode}] leftover HTEX processes after run: {len(left)}"
            + (f" {left}" if left else ""),
            flush=True,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
