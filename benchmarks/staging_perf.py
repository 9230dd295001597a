#!/usr/bin/env python3
"""Staging benchmark: plait's HTTP stage-in beside Parsl's and curl's, in one session.

    .venv/bin/python benchmarks/staging_perf.py [--small 200] [--big-mb 1024] [--quick]

Starts the project's HTTP test server (services/http_server.py) on loopback over a fresh
directory holding N small files (10 kB each) and one big sparse file, then measures:

* small files: N tasks, one input each, on a ThreadPoolExecutor of 8 threads — plait's
  HTTPInTaskStaging and HTTPSeparateTaskStaging (cache off), and Parsl 2026.10's
  HTTPSeparateTaskStaging (benchmarks/baselines/parsl_staging.py, in /work/venvs/parsl);
  files/s, best of 5 after a warm-up round. Also plait with all N files as the inputs of one task.
* the big file: one task through plait (cache off), through Parsl, and ``curl -o`` (the
  floor); MB/s, best of 3.
* a cache hit: fetching an already cached 10 kB file, with a conditional request to the
  server (the default) and within ``cache_max_age`` (no request); median microseconds.

Logging is off on both sides. Files are written under /dev/shm when it exists (tmpfs), so
that the disk (and ext4's flush of replaced files) does not decide the figures. Prints one
line per figure, then one JSON line.
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


def plait_small(base: str, n: int, work: Path, provider: Any, repeats: int) -> float:
    ex = ThreadPoolExecutor(max_threads=THREADS, working_dir=str(work),
                            storage_access=[provider])
    rates = []
    plait.clear()
    with plait.load(Config(executors=[ex], initialize_logging=False,
                           run_dir=str(work / "runinfo"), strategy="none")):
        for _ in range(repeats + 1):  # the first round warms up (imports, threads)
            _remove_fetched(work)
            start = time.perf_counter()
            futs = [size_of(inputs=[File(f"{base}/small/f{i}.bin")]) for i in range(n)]
            assert all(f.result(timeout=300) == 10_000 for f in futs)
            rates.append(n / (time.perf_counter() - start))
    return max(rates[1:])


def plait_one_task(base: str, n: int, work: Path, repeats: int) -> float:
    """All N files as the inputs of one task: in-task staging fetches them 8 at a time."""
    ex = ThreadPoolExecutor(max_threads=THREADS, working_dir=str(work),
                            storage_access=[HTTPInTaskStaging(cache=False)])
    rates = []
    plait.clear()
    with plait.load(Config(executors=[ex], initialize_logging=False,
                           run_dir=str(work / "runinfo"), strategy="none")):
        for _ in range(repeats + 1):
            _remove_fetched(work)
            start = time.perf_counter()
            files = [File(f"{base}/small/f{i}.bin") for i in range(n)]
            assert total_size(inputs=files).result(timeout=300) == 10_000 * n
            rates.append(n / (time.perf_counter() - start))
    return max(rates[1:])


@python_app
def total_size(inputs: list[File] = ()) -> int:  # type: ignore[assignment]
    import os

    return sum(os.path.getsize(f) for f in inputs)


def _remove_fetched(work: Path) -> None:
    """Each repeat writes new files: ext4 flushes a file renamed over (or truncated) an old
    one at once, which would time the disk instead of the transfer."""
    for p in work.glob("f*.bin"):
        p.unlink()


def plait_big(base: str, work: Path, size: int, repeats: int) -> float:
    ex = ThreadPoolExecutor(max_threads=THREADS, working_dir=str(work),
                            storage_access=[HTTPInTaskStaging(cache=False)])
    speeds = []
    plait.clear()
    with plait.load(Config(executors=[ex], initialize_logging=False,
                           run_dir=str(work / "runinfo"), strategy="none")):
        for _ in range(repeats):
            start = time.perf_counter()
            assert size_of(inputs=[File(f"{base}/big.bin")]).result(timeout=600) == size
            speeds.append(size / 1e6 / (time.perf_counter() - start))
            os.unlink(work / "big.bin")
    return max(speeds)


def curl_big(base: str, work: Path, size: int, repeats: int) -> float:
    speeds = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(["curl", "-s", "-o", str(work / "big.bin"), f"{base}/big.bin"],
                       check=True)
        speeds.append(size / 1e6 / (time.perf_counter() - start))
        assert os.path.getsize(work / "big.bin") == size
        os.unlink(work / "big.bin")
    return max(speeds)


def cache_hit_us(base: str, work: Path, max_age: float, n: int = 500) -> float:
    provider = HTTPInTaskStaging(cache_dir=str(work / "cache"), cache_max_age=max_age)
    url = f"{base}/small/f0.bin"
    f = File(url)
    f.local_path = str(work / "hit.bin")
    provider.fetch_here(f)  # the miss that fills the cache
    times = []
    for _ in range(n):
        start = time.perf_counter()
        assert provider.fetch_here(f) is True
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def parsl_baseline(base: str, n: int, work: Path, big: bool, repeats: int) -> dict[str, Any]:
    if not os.path.exists(PARSL_PY):
        return {"error": f"no Parsl venv at {PARSL_PY}"}
    argv = [PARSL_PY, str(ROOT / "benchmarks" / "baselines" / "parsl_staging.py"),
            "--base", base, "--small", str(n), "--workdir", str(work),
            "--threads", str(THREADS), "--repeats", str(repeats)]
    if big:
        argv += ["--big", "big.bin"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="64 MB, one repeat")
    args = parser.parse_args()
    big_mb, repeats = (64, 1) if args.quick else (args.big_mb, 5)
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
        for name, provider in (("plait_in_task", HTTPInTaskStaging(cache=False)),
                               ("plait_separate", HTTPSeparateTaskStaging(cache=False))):
            work = tmp / name
            out[f"{name}_files_per_s"] = plait_small(base, args.small, work, provider,
                                                     repeats)
            shutil.rmtree(work)
        out["plait_one_task_files_per_s"] = plait_one_task(base, args.small,
                                                           tmp / "one", repeats)
        parsl = parsl_baseline(base, args.small, tmp / "parsl", True, repeats)
        shutil.rmtree(tmp / "parsl", ignore_errors=True)
        out["parsl"] = parsl
        (tmp / "big").mkdir()
        out["plait_big_MB_per_s"] = plait_big(base, tmp / "big", size, repeats)
        out["curl_big_MB_per_s"] = curl_big(base, tmp / "big", size, repeats)
        out["cache_hit_revalidated_us"] = cache_hit_us(base, tmp / "big", 0.0)
        out["cache_hit_max_age_us"] = cache_hit_us(base, tmp / "big2", 3600.0)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    p_small = parsl.get("small_files_per_s")
    print(f"small files ({args.small} x 10 kB, {THREADS} threads):")
    for key in ("plait_in_task", "plait_separate"):
        rate = out[f"{key}_files_per_s"]
        ratio = f"  {rate / p_small:.1f}x Parsl" if p_small else ""
        print(f"  {key:16s} {rate:8.0f} files/s{ratio}")
    print(f"  {'parsl_separate':16s} {p_small or float('nan'):8.0f} files/s")
    print(f"  {'plait, 1 task':16s} {out['plait_one_task_files_per_s']:8.0f} files/s "
          f"(all {args.small} as one task's inputs)")
    p_big = parsl.get("big_MB_per_s")
    print(f"big file ({big_mb} MB, sparse, loopback):")
    print(f"  plait {out['plait_big_MB_per_s']:8.0f} MB/s  "
          f"{out['plait_big_MB_per_s'] / out['curl_big_MB_per_s']:.0%} of curl")
    print(f"  curl  {out['curl_big_MB_per_s']:8.0f} MB/s")
    print(f"  parsl {p_big or float('nan'):8.0f} MB/s")
    print(f"cache hit: {out['cache_hit_revalidated_us']:.0f} us with a conditional request, "
          f"{out['cache_hit_max_age_us']:.0f} us within cache_max_age")
    if "error" in parsl:
        print("Parsl baseline failed:", parsl["error"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
