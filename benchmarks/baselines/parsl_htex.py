#!/usr/bin/env python3
"""Baseline: Parsl HighThroughputExecutor + LocalProvider on one node.

    /work/venvs/parsl/bin/python benchmarks/baselines/parsl_htex.py [--quick] [--logging default|off|both]

HTEX(max_workers_per_node=2, encrypted=True (the default), address=127.0.0.1),
LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1).  Each logging mode runs
in a fresh subprocess inside ``with parsl.load(config):`` so that everything is
cleaned up; afterwards the driver checks that no interchange / worker-pool
process is left behind.  Prints human-readable lines and, last, one JSON line.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import _measure
import psutil


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

        _measure.futures_basics(
            out,
            tag,
            noop,
            dep,
            n_tput=N_TPUT,
            repeats=TPUT_REPEATS,
            warmup=200,
            n_lat=N_LAT,
            n_chain=N_CHAIN,
            latency_ms=True,
        )

        out["mb_1in_1out"] = _measure.bandwidth(echo_mb, lambda f: f.result(), N_MB)
        print(f"{tag} {_measure.bandwidth_line(out['mb_1in_1out'])}", flush=True)
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
    ap = _measure.driver_parser()
    args = ap.parse_args()

    ensure_venv_bin_on_path()
    if args.child:
        _measure.emit_child_json(run_mode(args.logging, args.quick))
        return

    from importlib.metadata import version

    result = _measure.header("parsl_htex", args.quick, parsl_version=version("parsl"))
    pre = leftovers()
    if pre:
        print(f"WARNING: HTEX processes already running before the benchmark: {pre}")
    for mode in _measure.logging_modes(args.logging):
        cmd = _measure.child_command(sys.executable, __file__, mode, args.quick)
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
        child = _measure.relay_child_output(stdout)
        _measure.store_child(result, mode, proc.returncode, child, stderr[-3000:])
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
