#!/usr/bin/env python3
"""Staging benchmark: plait's HTTP stage-in beside Parsl's and curl's, in one session.

    .venv/bin/python benchmarks/staging_perf.py [--small 200] [--big-mb 1024] [--rounds 5]
                                                [--quick]

Starts the project's HTTP test server (services/http_server.py) on loopback over a fresh
directory holding N small files (10 kB each) and one big sparse file, then measures:

* small files: N tasks, one input each, on a ThreadPoolExecutor of 8 threads — plait's
  HTTPInTaskStaging and HTTPSeparateTaskStaging (cache off), and Parsl 2026.10's
  HTTPSeparateTaskStaging (benchmarks/baselines/parsl_staging.py, in /work/venvs/parsl);
  files/s of a round after a warm-up round. Also plait with all N files as one task's inputs.
* the big file: one task through plait (cache off), through Parsl, and ``curl -o`` (the
  floor); MB/s.
  And the CPU time of the staging process per small file (user + system, all its
  threads): the load of the machine moves it far less than it moves the rates.
* a cache hit: fetching an already cached 10 kB file, with a conditional request to the
  server (the default) and within ``cache_max_age`` (no request); median microseconds of
  wall time, and the mean CPU time.

The machine is shared, so its load drifts: each of ``--rounds`` rounds measures every
figure back to back (Parsl in a fresh process each round), and the ratios reported are the
medians of the ratios within one round. Logging is off on both sides. Files are written
under /dev/shm when it exists (tmpfs), so that the disk (and ext4's flush of replaced
files) does not decide the figures. Prints one line per figure, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import plait
from plait import Config, File, ThreadPoolExecutor, python_app
from plait.data_provider.http import HTTPInTaskStaging, HTTPSeparateTaskStaging

ROOT = Path(__file__).resolve().parent.parent
PARSL_PY = "/work/venvs/parsl/bin/python"
THREADS = 8


@python_app
def size_of(inputs: list[File] = ()) -> int:  # type: ignore[assignment]
    import os

    return os.path.getsize(inputs[0])


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = root.parent / "port"
    proc = subprocess.Popen([sys.executable, str(ROOT / "services" / "http_server.py"),
                             "--root", str(root), "--port-file", str(port_file)])
    deadline = time.monotonic() + 20
    while not port_file.exists():  # the server writes it once it listens
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the HTTP test server did not start")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text()}"


def plait_rate(work: Path, provider: Any, amount: float, run: Any,
               warm_up: bool = True) -> tuple[float, float]:
    """``amount`` (files, or MB) per second of ``run()`` on a fresh kernel whose executor
    stages with ``provider``, after a warm-up run (imports, threads) if asked; and the
    process's CPU microseconds per unit of ``amount``."""
    ex = ThreadPoolExecutor(max_threads=THREADS, working_dir=str(work),
                            storage_access=[provider])
    plait.clear()
    with plait.load(Config(executors=[ex], initialize_logging=False,
                           run_dir=str(work / "runinfo"), strategy="none")):
        for _ in range(2 if warm_up else 1):
            _remove_fetched(work)
            start, cpu = time.perf_counter(), time.process_time()
            run()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return amount / elapsed, cpu / amount * 1e6


def plait_small(base: str, n: int, work: Path, provider: Any) -> tuple[float, float]:
    """N tasks with one small input each."""
    def run() -> None:
        futs = [size_of(inputs=[File(f"{base}/small/f{i}.bin")]) for i in range(n)]
        assert all(f.result(timeout=300) == 10_000 for f in futs)

    return plait_rate(work, provider, n, run)


def plait_one_task(base: str, n: int, work: Path) -> tuple[float, float]:
    """All N files as the inputs of one task: in-task staging fetches them 8 at a time."""
    def run() -> None:
        files = [File(f"{base}/small/f{i}.bin") for i in range(n)]
        assert total_size(inputs=files).result(timeout=300) == 10_000 * n

    return plait_rate(work, HTTPInTaskStaging(cache=False), n, run)


@python_app
def total_size(inputs: list[File] = ()) -> int:  # type: ignore[assignment]
    import os

    return sum(os.path.getsize(f) for f in inputs)


def _remove_fetched(work: Path) -> None:
    """Each run writes new files: ext4 flushes a file renamed over (or truncated) an old
    one at once, which would time the disk instead of the transfer."""
    for p in work.glob("*.bin"):
        p.unlink()


def plait_big(base: str, work: Path, size: int) -> float:
    def run() -> None:
        assert size_of(inputs=[File(f"{base}/big.bin")]).result(timeout=600) == size

    rate, _ = plait_rate(work, HTTPInTaskStaging(cache=False), size / 1e6, run,
                         warm_up=False)
    _remove_fetched(work)
    return rate


def curl_big(base: str, work: Path, size: int) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", str(work / "big.bin"), f"{base}/big.bin"],
                   check=True)
    rate = size / 1e6 / (time.perf_counter() - start)
    assert os.path.getsize(work / "big.bin") == size
    os.unlink(work / "big.bin")
    return rate


def cache_hit_us(base: str, work: Path, max_age: float,
                 n: int = 500) -> tuple[float, float]:
    """A cache hit's median wall time and mean CPU time (this process), in microseconds."""
    provider = HTTPInTaskStaging(cache_dir=str(work / "cache"), cache_max_age=max_age)
    url = f"{base}/small/f0.bin"
    f = File(url)
    f.local_path = str(work / "hit.bin")
    provider.fetch_here(f)  # the miss that fills the cache
    times = []
    cpu = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        assert provider.fetch_here(f) is True
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6, (time.process_time() - cpu) / n * 1e6


def parsl_baseline(base: str, n: int, work: Path) -> dict[str, Any]:
    if not os.path.exists(PARSL_PY):
        return {"error": f"no Parsl venv at {PARSL_PY}"}
    argv = [PARSL_PY, str(ROOT / "benchmarks" / "baselines" / "parsl_staging.py"),
            "--base", base, "--small", str(n), "--workdir", str(work),
            "--threads", str(THREADS), "--repeats", "1", "--big", "big.bin"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def median_ratio(rounds: list[dict[str, float]], key: str, baseline: str) -> float:
    """The median over rounds of ``key / baseline`` measured in the same round."""
    return statistics.median(r[key] / r[baseline] for r in rounds)


def _figure(rounds: list[dict[str, float]], key: str, baseline: str, as_: str = "x") -> str:
    values = [r[key] for r in rounds]
    best = max(values) / max(r[baseline] for r in rounds)
    ratios = (f"{median_ratio(rounds, key, baseline):5.0%} / {best:5.0%} of" if as_ == "%"
              else f"{median_ratio(rounds, key, baseline):5.1f}x / {best:5.1f}x")
    return (f"{statistics.median(values):7.0f} ({min(values):.0f}-{max(values):.0f})  "
            f"{ratios}")


def one_round(base: str, n: int, tmp: Path, size: int) -> dict[str, float]:
    """Every figure once, back to back, so that a change of the machine's load between
    plait's and Parsl's measurements moves both (the machine is shared)."""
    fig: dict[str, float] = {}
    for name, provider in (("plait_in_task", HTTPInTaskStaging(cache=False)),
                           ("plait_separate", HTTPSeparateTaskStaging(cache=False))):
        fig[name], fig[f"{name}_cpu_us"] = plait_small(base, n, tmp / name, provider)
        shutil.rmtree(tmp / name)
    fig["plait_one_task"], fig["plait_one_task_cpu_us"] = plait_one_task(base, n,
                                                                         tmp / "one")
    shutil.rmtree(tmp / "one")
    parsl = parsl_baseline(base, n, tmp / "parsl")
    shutil.rmtree(tmp / "parsl", ignore_errors=True)
    if "error" in parsl:
        raise RuntimeError(f"the Parsl baseline failed: {parsl['error']}")
    fig["parsl_separate"], fig["parsl_big"] = parsl["small_files_per_s"], parsl["big_MB_per_s"]
    fig["parsl_separate_cpu_us"] = parsl["small_cpu_us_per_file"]
    (tmp / "big").mkdir()
    fig["plait_big"] = plait_big(base, tmp / "big", size)
    fig["curl_big"] = curl_big(base, tmp / "big", size)
    shutil.rmtree(tmp / "big")
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="64 MB, one round")
    args = parser.parse_args()
    big_mb, rounds = (64, 1) if args.quick else (args.big_mb, args.rounds)
    # on tmpfs when there is one: the figures are then the transfers', not the disk's
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    tmp = Path(tempfile.mkdtemp(prefix="plait-staging-bench-", dir=shm))
    root = tmp / "root"
    (root / "small").mkdir(parents=True)
    for i in range(args.small):
        (root / "small" / f"f{i}.bin").write_bytes(os.urandom(10_000))
    size = big_mb * 2**20
    with open(root / "big.bin", "wb") as f:
        f.truncate(size)  # sparse: the server reads zeros without touching the disk
    server, base = start_server(root)
    out: dict[str, Any] = {"load": os.getloadavg()[0], "small": args.small, "big_MB": big_mb}
    try:
        figures = [one_round(base, args.small, tmp, size) for _ in range(rounds)]
        out["cache_hit_revalidated_us"], out["cache_hit_revalidated_cpu_us"] = \
            cache_hit_us(base, tmp / "c1", 0.0)
        out["cache_hit_max_age_us"], out["cache_hit_max_age_cpu_us"] = \
            cache_hit_us(base, tmp / "c2", 3600.0)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    out["load_after"] = os.getloadavg()[0]
    out["rounds"] = figures
    for key in figures[0]:
        out[key] = statistics.median(r[key] for r in figures)
    print(f"{rounds} rounds: median (min-max); the median of the ratios within a round, and "
          "the ratio of the best rounds")
    print(f"small files ({args.small} x 10 kB, {THREADS} threads), files/s:")
    for key in ("plait_in_task", "plait_separate", "plait_one_task", "parsl_separate"):
        print(f"  {key:16s} {_figure(figures, key, 'parsl_separate')} Parsl")
    print("small files, the staging process's CPU microseconds per file:")
    for key in ("plait_in_task", "plait_separate", "plait_one_task", "parsl_separate"):
        cpu = statistics.median(r[f"{key}_cpu_us"] for r in figures)
        ratio = statistics.median(r["parsl_separate_cpu_us"] / r[f"{key}_cpu_us"]
                                  for r in figures)
        print(f"  {key:16s} {cpu:7.0f} us  Parsl uses {ratio:.1f}x as much")
    print(f"big file ({big_mb} MB, sparse, loopback), MB/s:")
    for key in ("plait_big", "curl_big", "parsl_big"):
        print(f"  {key:16s} {_figure(figures, key, 'curl_big', '%')} curl")
    print(f"cache hit, median wall (mean CPU): {out['cache_hit_revalidated_us']:.0f} us "
          f"({out['cache_hit_revalidated_cpu_us']:.0f}) with a conditional request to the "
          f"server, {out['cache_hit_max_age_us']:.0f} us "
          f"({out['cache_hit_max_age_cpu_us']:.0f}) within cache_max_age")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
