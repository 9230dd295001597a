#!/usr/bin/env python3
"""Monitoring on vs off: no-op tasks on threads and on the pilot executor, plait and Parsl.

    python benchmarks/monitoring_overhead.py [--quick] [--out results.jsonl]

Runs every (library, executor, monitoring) case in a fresh subprocess: plait with this
interpreter, Parsl 2026.10.26 with $PARSL_PY (default: /work/venvs/i17-parsl-monitoring, a
venv with ``pip install 'parsl[monitoring]==2026.10.26'``, since Parsl's MonitoringHub needs
SQLAlchemy, which /work/venvs/parsl lacks; skipped if absent). Each case loads a config,
submits N no-op tasks and waits for all of them, then times cleanup (with monitoring: until
the database has everything). Both libraries use their MonitoringHub defaults (SQLite in
the run directory, resource monitoring on, 30 s interval). A case whose cleanup is still
going ``CLEANUP_TIMEOUT_S`` after its rates were measured is killed and reported as hung
(its rates still count). Prints tasks/s and the off/on ratio per library and executor
(medians of ``--rounds`` alternating off/on pairs, so that the machine's changing load hits
both), and CPU time per task in the script and in its helper processes (database writer,
interchange, managers and workers): on a loaded machine the CPU figures say more than the
rates. Appends JSON lines.
The script uses only the API both libraries share, so the same code measures both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# Parsl 2026.10.26 with its monitoring extra (SQLAlchemy); /work/venvs/parsl has no SQLAlchemy
PARSL_PY = os.environ.get("PARSL_PY", "/work/venvs/i17-parsl-monitoring/bin/python")
CHILD = "RESULT_JSON "
RATES = "RATES_JSON "
CLEANUP_TIMEOUT_S = 90  # a case whose cleanup is still going after this is reported as hung


def child(lib: str, executor: str, monitoring: bool, n: int, repeats: int) -> None:
    """One case, in this process: print one RESULT_JSON line."""
    if lib == "parsl":  # HTEX starts its helpers by name from the venv's bin directory
        os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
        import parsl as L
        from parsl.monitoring import MonitoringHub
        from parsl.providers import LocalProvider
    else:
        import plait as L
        from plait.monitoring import MonitoringHub
        from plait.providers import LocalProvider
    run_dir = tempfile.mkdtemp(prefix=f"mon-{lib}-{executor}-")
    if executor == "threads":
        ex = L.ThreadPoolExecutor(max_threads=2)
    else:
        ex = L.HighThroughputExecutor(max_workers_per_node=2, address="127.0.0.1",
                                      provider=LocalProvider(init_blocks=1, max_blocks=1))
    hub = MonitoringHub() if monitoring else None
    config = L.Config(executors=[ex], run_dir=run_dir, monitoring=hub, strategy="none",
                      initialize_logging=False)

    @L.python_app
    def noop():
        return 7

    dfk = L.load(config)
    try:
        assert all(f.result() == 7 for f in [noop() for _ in range(min(n, 500))])  # warm up
        rates = []
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        for _ in range(repeats):
            t0 = time.perf_counter()
            futures = [noop() for _ in range(n)]
            for f in futures:
                f.result()
            rates.append(n / (time.perf_counter() - t0))
            del futures
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        print(RATES + json.dumps({"tasks_per_s": statistics.median(rates), "all": rates}),
              flush=True)  # before cleanup, which can hang (Parsl's MonitoringHub.close)
    finally:
        t0 = time.perf_counter()
        dfk.cleanup()
        cleanup_s = time.perf_counter() - t0
        if lib == "parsl":
            L.clear()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # helper processes, once reaped
    total = n * repeats
    db = os.path.join(run_dir, "monitoring.db")
    print(CHILD + json.dumps({
        "lib": lib, "executor": executor, "monitoring": monitoring, "tasks": n,
        "repeats": repeats, "tasks_per_s": statistics.median(rates), "all": rates,
        "cleanup_s": cleanup_s,
        "script_cpu_us_per_task": (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime
                                   - cpu0.ru_stime) / total * 1e6,
        "children_cpu_us_per_task": (children.ru_utime + children.ru_stime) / total * 1e6,
        "db_bytes": os.path.getsize(db) if os.path.exists(db) else None}), flush=True)


def run_case(python: str, lib: str, executor: str, monitoring: bool, n: int,
             repeats: int) -> dict | None:
    args = [python, os.path.abspath(__file__), "--child", lib, executor,
            "on" if monitoring else "off", str(n), str(repeats)]
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True,
                                start_new_session=True)
        lines: list[str] = []
        measured = threading.Event()
        reader = threading.Thread(target=_collect, args=(proc, lines, measured), daemon=True)
        reader.start()
        measured.wait(1800)  # the rates come before cleanup starts
        hung = False
        try:
            proc.wait(CLEANUP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            hung = True
            os.killpg(proc.pid, signal.SIGKILL)  # the case and every helper it started
            proc.wait()
        reader.join(30)
        err.seek(0)
        stderr = err.read()
    found = {kind: json.loads(line[len(kind):]) for line in lines
             for kind in (CHILD, RATES) if line.startswith(kind)}
    if CHILD in found:
        return dict(found[CHILD])
    if hung and RATES in found:
        print(f"{lib} {executor} monitoring={monitoring}: cleanup still going after "
              f"{CLEANUP_TIMEOUT_S} s; killed", file=sys.stderr)
        return {"lib": lib, "executor": executor, "monitoring": monitoring, "tasks": n,
                "repeats": repeats, **found[RATES], "cleanup_s": None, "cleanup_hung": True,
                "script_cpu_us_per_task": float("nan"),
                "children_cpu_us_per_task": float("nan")}
    print(f"{lib} {executor} monitoring={monitoring} failed (exit {proc.returncode}):\n"
          f"{stderr[-3000:]}", file=sys.stderr)
    return None


def _collect(proc: subprocess.Popen[str], lines: list[str], measured: threading.Event
             ) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(RATES):
            measured.set()
    measured.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3,
                        help="off/on pairs per library and executor, alternating (default 3)")
    parser.add_argument("--out", default=None, help="append JSON lines here")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        lib, executor, mon, n, repeats = args.child
        child(lib, executor, mon == "on", int(n), int(repeats))
        return
    sizes = {("plait", "threads"): 50_000, ("plait", "htex"): 20_000,
             ("parsl", "threads"): 5_000, ("parsl", "htex"): 600}  # Parsl 2026.10.26 HTEX
    # with monitoring ran ~10 tasks/s here (its interchange logs every node message)
    libs = [("plait", sys.executable)] + ([("parsl", PARSL_PY)] if os.path.exists(PARSL_PY)
                                          else [])
    load = os.getloadavg()
    results = []
    ratios = []
    for lib, python in libs:
        for executor in ("threads", "htex"):
            n = sizes[(lib, executor)] // (10 if args.quick else 1)
            cases: dict[bool, list[dict]] = {False: [], True: []}
            for round_ in range(args.rounds):  # off, on, on, off, ...: drift hits both
                for monitoring in (False, True) if round_ % 2 == 0 else (True, False):
                    r = run_case(python, lib, executor, monitoring, n, 1)
                    if r:
                        r["load_before"] = os.getloadavg()[0]
                        results.append(r)
                        cases[monitoring].append(r)
                        _print_case(r)
            if cases[False] and cases[True]:
                ratios.append((lib, executor, *(_median(cases[m], "tasks_per_s")
                                                for m in (False, True)),
                               *(_median(cases[m], "script_cpu_us_per_task")
                                 + _median(cases[m], "children_cpu_us_per_task")
                                 for m in (False, True))))
    print(f"\nload average before: {load[0]:.2f}, after: {os.getloadavg()[0]:.2f}")
    print("medians over rounds; CPU = script + helper processes, microseconds per task")
    print(f"{'library':8} {'executor':9} {'off':>9} {'on':>9} {'off/on':>7} "
          f"{'CPU off':>8} {'CPU on':>8} {'on/off':>7}")
    for lib, executor, off, on, cpu_off, cpu_on in ratios:
        print(f"{lib:8} {executor:9} {off:9.0f} {on:9.0f} {off / on:7.2f}x "
              f"{cpu_off:8.1f} {cpu_on:8.1f} {cpu_on / cpu_off:7.2f}x")
    if args.out:
        with open(args.out, "a") as fh:
            for r in results:
                fh.write(json.dumps({"bench": "monitoring_overhead", "python":
                                     platform.python_version(), "cpus": os.cpu_count(),
                                     **r}) + "\n")


def _median(cases: list[dict], key: str) -> float:
    values = [c[key] for c in cases if c.get(key) == c.get(key)]  # NaN: a killed case
    return statistics.median(values) if values else float("nan")


def _print_case(r: dict) -> None:
    cleanup = "HUNG (killed)" if r.get("cleanup_hung") else f"{r['cleanup_s']:.2f} s"
    print(f"{r['lib']:6} {r['executor']:8} monitoring {'on ' if r['monitoring'] else 'off'} "
          f"{r['tasks_per_s']:10.0f} tasks/s  cleanup {cleanup}  CPU/task: script "
          f"{r['script_cpu_us_per_task']:.1f} us, helpers {r['children_cpu_us_per_task']:.1f} "
          f"us  (load {r['load_before']:.1f})", flush=True)


if __name__ == "__main__":
    main()
