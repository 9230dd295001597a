"""Seconds from ``load()`` to the first result on a block of the real Slurm or Grid Engine.

    python benchmarks/batch/first_result.py plait|parsl slurm|gridengine [--nodes 2] [--runs 3]

Run it with plait's venv for ``plait`` and with /work/venvs/parsl for ``parsl``: the same
code, with the library's import paths (Parsl's API is plait's). The schedulers are the ones
services/slurm.sh and services/gridengine.sh start. Prints one JSON line per run and a
summary line (median).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

SERVICES_RUN = Path(__file__).resolve().parents[2] / "services" / "run"


def where(x: int) -> tuple[int, str]:
    import os

    return x, os.environ.get("SLURMD_NODENAME") or os.environ.get("JOB_ID", "")


def make_config(lib: str, scheduler: str, nodes: int, run_dir: str):
    config = importlib.import_module(f"{lib}.config")
    executors = importlib.import_module(f"{lib}.executors")
    providers = importlib.import_module(f"{lib}.providers")
    launchers = importlib.import_module(f"{lib}.launchers")
    worker_init = f"export PATH={os.path.dirname(sys.executable)}:$PATH"
    if scheduler == "slurm":
        launcher = launchers.SrunLauncher() if nodes > 1 else launchers.SingleNodeLauncher()
        provider = providers.SlurmProvider(nodes_per_block=nodes, launcher=launcher,
                                           worker_init=worker_init, walltime="00:10:00")
    else:
        for line in (SERVICES_RUN / "gridengine.env").read_text().split():
            key, _, value = line.partition("=")
            os.environ[key] = value  # Parsl's commands read SGE_* from the environment
        provider = providers.GridEngineProvider(worker_init=worker_init, walltime="00:10:00")
    ex = executors.HighThroughputExecutor(label="bench", provider=provider,
                                          max_workers_per_node=1, address="127.0.0.1")
    return config.Config(executors=[ex], run_dir=run_dir)


def one_run(lib: str, scheduler: str, nodes: int) -> dict[str, object]:
    mod = importlib.import_module(lib)
    app = mod.python_app(where)
    with tempfile.TemporaryDirectory(prefix=f"i15-bench-{lib}-") as tmp:
        cfg = make_config(lib, scheduler, nodes, os.path.join(tmp, "runinfo"))
        start = time.perf_counter()
        dfk = mod.load(cfg)
        try:
            value = app(1).result(timeout=300)
            first = time.perf_counter() - start
        finally:
            dfk.cleanup()
            mod.clear()
    return {"lib": lib, "scheduler": scheduler, "nodes": nodes, "first_result_s": first,
            "ran_on": value[1], "load": os.getloadavg()[0]}


def main() -> None:
    # Parsl starts interchange.py and process_worker_pool.py by name
    os.environ["PATH"] = f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lib", choices=["plait", "parsl"])
    parser.add_argument("scheduler", choices=["slurm", "gridengine"])
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        runs.append(one_run(args.lib, args.scheduler, args.nodes))
        print(json.dumps(runs[-1]), flush=True)
    times = [float(r["first_result_s"]) for r in runs]  # type: ignore[arg-type]
    print(json.dumps({"summary": "first_result", "lib": args.lib, "scheduler": args.scheduler,
                      "nodes": args.nodes, "median_s": statistics.median(times),
                      "runs_s": times}))


if __name__ == "__main__":
    main()
