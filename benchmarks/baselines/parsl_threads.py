#!/usr/bin/env python3
"""Baseline: Parsl ThreadPoolExecutor overheads.

Run with the Parsl baseline venv, e.g.
    /work/venvs/parsl/bin/python benchmarks/baselines/parsl_threads.py [--quick]

By default both logging modes are measured, each in a fresh subprocess
(``--logging default`` = Config(initialize_logging=True),
``--logging off`` = Config(initialize_logging=False)).
Prints human-readable lines and, last, one JSON line with all figures.
"""

import gc
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc

import _measure
import psutil


def rss():
    return psutil.Process().memory_info().rss


def measure_import(repeats):
    """Wall time and max RSS of `import parsl` in fresh interpreters."""
    # VmHWM (peak RSS of this process image; ru_maxrss would inherit the parent's peak)
    code_bare = (
        "import sys; sys.stdout.write([l.split()[1] for l in open('/proc/self/status') "
        "if l.startswith('VmHWM')][0])"
    )
    code_parsl = "import parsl; " + code_bare
    res = {}
    for name, code in (("bare", code_bare), ("parsl", code_parsl)):
        times, rss_kb = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
            times.append(time.perf_counter() - t0)
            rss_kb.append(int(out.strip()))
        res[name] = (statistics.median(times), statistics.median(rss_kb))
    import_s = res["parsl"][0] - res["bare"][0]
    return {
        "import_parsl_s": import_s,
        "python_bare_s": res["bare"][0],
        "python_import_parsl_total_s": res["parsl"][0],
        "maxrss_bare_MB": res["bare"][1] / 1024,
        "maxrss_import_parsl_MB": res["parsl"][1] / 1024,
        "import_parsl_extra_MB": (res["parsl"][1] - res["bare"][1]) / 1024,
    }


def memory_tests(noop, block, n, use_tm):
    """(i) bytes retained per finished task after gc; (ii) bytes per task in flight."""

    def used():
        return tracemalloc.get_traced_memory()[0] if use_tm else rss()

    r = {"tasks": n}
    gc.collect()
    if use_tm:
        tracemalloc.start()
    m0 = used()
    futs = [noop() for _ in range(n)]
    for f in futs:
        f.result()
    del f
    gc.collect()
    m_held = used()
    del futs
    gc.collect()
    m1 = used()
    r["held_B_per_task"] = (m_held - m0) / n
    r["retained_B_per_task"] = (m1 - m0) / n

    # in flight: occupy both worker threads with tasks blocked on an Event
    ev = threading.Event()
    blockers = [block(ev) for _ in range(2)]
    time.sleep(0.2)
    gc.collect()
    m0 = used()
    t0 = time.perf_counter()
    futs = [noop() for _ in range(n)]
    t_sub = time.perf_counter() - t0
    gc.collect()
    m1 = used()
    if use_tm:
        tracemalloc.stop()
    r["inflight_B_per_task"] = (m1 - m0) / n
    r["inflight_submit_rate"] = n / t_sub
    ev.set()
    t0 = time.perf_counter()
    for f in blockers + futs:
        f.result()
    r["inflight_drain_s"] = time.perf_counter() - t0
    return r


def run_mode(logging_mode, quick):
    import parsl
    from parsl import python_app
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor

    N_TPUT = 2_000 if quick else 10_000
    TPUT_REPEATS = 3
    N_LAT = 200 if quick else 1_000
    N_CHAIN = 200 if quick else 1_000
    # memory figures: RSS deltas over N_MEM tasks, tracemalloc deltas over N_TM tasks
    # (tracemalloc slows submission several-fold; the default-logging mode is ~6x slower)
    N_MEM = 10_000 if quick else (100_000 if logging_mode == "off" else 20_000)
    N_TM = 5_000 if quick else (20_000 if logging_mode == "off" else 10_000)

    @python_app
    def noop():
        return 7

    @python_app
    def dep(x):
        return x

    @python_app
    def block(ev):
        ev.wait()
        return 0

    run_dir = tempfile.mkdtemp(prefix="parsl_threads_runinfo_", dir="/tmp")
    config = Config(
        executors=[ThreadPoolExecutor(label="threads", max_threads=2)],
        run_dir=run_dir,
        initialize_logging=(logging_mode == "default"),
    )
    out = {"logging": logging_mode, "run_dir": run_dir}

    t_load = time.perf_counter()
    with parsl.load(config):
        assert noop().result() == 7
        out["load_to_first_result_s"] = time.perf_counter() - t_load

        # throughput: submit N then wait on all (after 500 warm-up tasks)
        _measure.futures_basics(
            out,
            f"[{logging_mode}]",
            noop,
            dep,
            n_tput=N_TPUT,
            repeats=TPUT_REPEATS,
            warmup=500,
            n_lat=N_LAT,
            n_chain=N_CHAIN,
        )

        # memory: RSS over N_MEM tasks (no tracemalloc), then tracemalloc over N_TM tasks
        for kind, n in (("rss", N_MEM), ("tracemalloc", N_TM)):
            r = memory_tests(noop, block, n, kind == "tracemalloc")
            out[f"mem_{kind}"] = r
            print(
                f"[{logging_mode}] {kind} over {n} tasks: retained per finished task (futures dropped) "
                f"{r['retained_B_per_task']:.1f} B; with futures held {r['held_B_per_task']:.0f} B; "
                f"in flight {r['inflight_B_per_task']:.0f} B/task "
                f"(submit rate while blocked {r['inflight_submit_rate']:.0f} tasks/s)",
                flush=True,
            )
    parsl.clear()
    return out


def main():
    ap = _measure.driver_parser()
    ap.add_argument("--no-import", action="store_true", help="skip the import-time measurement")
    args = ap.parse_args()

    if args.child:
        _measure.emit_child_json(run_mode(args.logging, args.quick))
        return

    from importlib.metadata import version

    result = _measure.header("parsl_threads", args.quick, parsl_version=version("parsl"))
    if not args.no_import:
        imp = measure_import(3 if args.quick else 7)
        result["import"] = imp
        print(
            f"import parsl: {imp['import_parsl_s'] * 1e3:.0f} ms over bare python "
            f"({imp['python_bare_s'] * 1e3:.0f} ms); maxRSS {imp['maxrss_import_parsl_MB']:.1f} MB "
            f"(+{imp['import_parsl_extra_MB']:.1f} MB over bare)",
            flush=True,
        )

    for mode in _measure.logging_modes(args.logging):
        cmd = _measure.child_command(sys.executable, __file__, mode, args.quick)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=290)
        except subprocess.TimeoutExpired as e:
            print((e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""))
            result[f"logging_{mode}"] = {"error": "timeout"}
            continue
        child = _measure.relay_child_output(proc.stdout)
        _measure.store_child(result, mode, proc.returncode, child, proc.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
