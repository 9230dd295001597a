#!/usr/bin/env python3
"""CWL workflow benchmark: plait cwl run (pilot executor) vs cwltool --parallel vs toil-cwl-runner.

    .venv/bin/python benchmarks/cwl/bench.py [--scatter 1000] [--pipelines 100] [--repeat 1]
        [--cwltool /work/venvs/cwltool/bin/cwltool]
        [--toil /work/venvs/toil/bin/toil-cwl-runner]
        [--runners plait,cwltool,toil,plait:8,cwltool:8]

Workloads (documents beside this file):

* ``scatter``: ``scatter-echo.cwl``, a scatter of N short ``echo``-into-a-file jobs;
* ``pipelines``: ``three-steps-x100.cwl``, the 3-step workflow ``three-steps.cwl``
  (write, ``wc -w``, ``sed``) run for N inputs in one invocation (a scattered subworkflow);
* ``one``: ``three-steps.cwl`` once (start-up dominated).

Runners: ``plait`` (``pilot_config.py``: the pilot executor, one local block of 2 workers),
``cwltool`` (``--parallel``: as many jobs at once as the machine has cores), ``toil``;
``plait:N`` / ``cwltool:N`` run N jobs at once (N workers; ``--parallel-max N``).
Each run starts in a fresh output directory; the wall time of the whole command is measured
(start-up, scheduling, jobs, moving outputs, JSON; file systems synced before each run),
with the CPU time of the command and the processes it reaped, and the output object is
checked (N files). Repeats are interleaved
(every runner once, then again), so the load of a shared machine falls on all alike. Prints
a table, the load average around each run, the ratios against cwltool, and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLAIT = Path(sys.executable).parent / "plait-cwl-runner"


def command(runner: str, exe: str, outdir: Path, work: Path, document: Path,
            job: Path) -> list[str]:
    kind, _, width = runner.partition(":")
    if kind == "plait":
        return [exe, "--quiet", "--config", str(HERE / "pilot_config.py"), "--outdir",
                str(outdir), str(document), str(job)]
    if kind == "cwltool":
        limit = ["--parallel-max", width] if width else []
        return [exe, "--parallel", *limit, "--no-container", "--quiet", "--outdir",
                str(outdir), str(document), str(job)]
    return [exe, "--quiet", "--no-container", "--jobStore", str(work / "jobstore"),
            "--outdir", str(outdir), str(document), str(job)]


def count_files(value: object) -> int:
    if isinstance(value, dict):
        own = 1 if value.get("class") == "File" else 0
        return own + sum(count_files(v) for k, v in value.items() if k != "secondaryFiles")
    if isinstance(value, list):
        return sum(count_files(v) for v in value)
    return 0


def run_once(runner: str, exe: str, document: Path, job: Path, expect_files: int,
             timeout: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"plait-cwl-bench-{runner}-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, PATH=f"{Path(exe).parent}:{os.environ['PATH']}",
                   PLAIT_BENCH_RUN_DIR=str(work / "runinfo"), TMPDIR=str(work),
                   PLAIT_BENCH_WORKERS=runner.partition(":")[2] or "2")
        # The previous run's thousands of created and removed files are still being written
        # back; flushed now, that work does not land on this run's time.
        os.sync()
        load_before = os.getloadavg()[0]
        cpu_before = _children_cpu()
        start = time.perf_counter()
        out = subprocess.run(command(runner, exe, work / "out", work, document, job),
                             cwd=work, env=env, capture_output=True, text=True,
                             timeout=timeout)
        wall = time.perf_counter() - start
        cpu = _children_cpu() - cpu_before
        load_after = os.getloadavg()[0]
    ok = out.returncode == 0
    files = 0
    if ok:
        try:
            files = count_files(json.loads(out.stdout))
        except json.JSONDecodeError:
            ok = False
    if files != expect_files:
        ok = False
    result: dict[str, object] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "ok": ok,
                                 "files": files,
                                 "load": [round(load_before, 2), round(load_after, 2)]}
    if not ok:
        result["error"] = (out.stderr or out.stdout)[-600:]
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scatter", type=int, default=1000)
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (median)")
    parser.add_argument("--cwltool", default="/work/venvs/cwltool/bin/cwltool")
    parser.add_argument("--toil", default="/work/venvs/toil/bin/toil-cwl-runner")
    parser.add_argument("--runners", default="plait,cwltool,toil",
                        help="plait, cwltool, toil, plait:N, cwltool:N (N jobs at once)")
    parser.add_argument("--workloads", default="scatter,pipelines,one")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    executables = {"plait": str(PLAIT), "cwltool": args.cwltool, "toil": args.toil}
    chosen = [r for r in args.runners.split(",") if r]
    for name in chosen:
        exe = executables[name.partition(":")[0]]
        if not shutil.which(exe):
            sys.exit(f"{name}: {exe} not found (make its venv, see benchmarks/cwl)")
    jobs = Path(tempfile.mkdtemp(prefix="plait-cwl-bench-jobs-"))
    scatter_job = jobs / "scatter.json"
    scatter_job.write_text(json.dumps({"messages": [f"message {i}"
                                                    for i in range(args.scatter)]}))
    pipelines_job = jobs / "pipelines.json"
    pipelines_job.write_text(json.dumps({"messages": [f"word{i} and more words"
                                                      for i in range(args.pipelines)]}))
    one_job = jobs / "one.json"
    one_job.write_text(json.dumps({"message": "a few words here"}))
    workloads = {
        "scatter": (HERE / "scatter-echo.cwl", scatter_job, args.scatter,
                    f"scatter of {args.scatter} echo jobs"),
        "pipelines": (HERE / "three-steps-x100.cwl", pipelines_job, args.pipelines,
                      f"3-step workflow x{args.pipelines}"),
        "one": (HERE / "three-steps.cwl", one_job, 1, "3-step workflow once"),
    }
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for key in [w for w in args.workloads.split(",") if w]:
        document, job, expect, title = workloads[key]
        runs: dict[str, list[dict[str, Any]]] = {r: [] for r in chosen}
        for _ in range(args.repeat):
            for runner in chosen:
                exe = executables[runner.partition(":")[0]]
                runs[runner].append(run_once(runner, exe, document, job, expect, args.timeout))
        for runner in chosen:
            walls = [float(r["wall_s"]) for r in runs[runner]]
            ok = all(r["ok"] for r in runs[runner])
            results.setdefault(key, {})[runner] = {
                "median_s": round(statistics.median(walls), 2), "runs": runs[runner], "ok": ok}
            flag = "" if ok else "  FAILED: " + str(
                next(r.get("error") for r in runs[runner] if not r["ok"]))
            loads = ", ".join(f"{r['load'][0]}->{r['load'][1]}" for r in runs[runner])
            cpus = ", ".join(f"{r['cpu_s']:.1f}" for r in runs[runner])
            print(f"{title:32} {runner:10} {statistics.median(walls):8.2f} s  "
                  f"(runs: {', '.join(f'{w:.2f}' for w in walls)}; CPU s: {cpus}; "
                  f"load {loads}){flag}", flush=True)
        for runner in chosen:
            if runner.startswith("plait"):
                base_name = "cwltool" + runner.removeprefix("plait")
                for base in dict.fromkeys(["cwltool", base_name]):
                    if base in results[key]:
                        ratio = (results[key][base]["median_s"]
                                 / results[key][runner]["median_s"])
                        print(f"{title:32} {runner} is {ratio:.2f}x {base}", flush=True)
    shutil.rmtree(jobs, ignore_errors=True)
    print(json.dumps({"benchmark": "cwl", "cpus": os.cpu_count(), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
