"""Measurement loops shared by the baseline scripts in this folder.

Standard library only, so that it works in every baseline venv.  The scripts are
run as ``python benchmarks/baselines/<script>.py``, which puts this folder on
``sys.path``; they import this module as ``import _measure``.

Every helper takes plain callables, so the same loop serves Parsl apps
(``noop()`` / ``f.result()``), Ray remote functions (``noop.remote()`` /
``ray.get``) and ``concurrent.futures`` pools (``pool.submit(noop)`` / ``wait``).
Task functions themselves stay in the scripts (a ProcessPoolExecutor pickles
them by reference to the script's ``__main__``).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

MB = 1_000_000
CHILD_MARKER = "CHILD_JSON "


def percentiles(samples: Iterable[float]) -> dict[str, float]:
    """p50/p90/p99/mean of durations in seconds, reported in microseconds."""
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


def result_all(futures: Iterable[Any]) -> None:
    """Wait on futures by calling ``.result()`` on each in turn (Parsl AppFutures etc.)."""
    for f in futures:
        f.result()


def throughput(
    submit: Callable[[], Any],
    wait_all: Callable[[list], Any],
    n: int,
    repeats: int = 3,
    warmup: int = 0,
) -> dict[str, Any]:
    """Submit ``n`` tasks, wait on all of them; ``repeats`` times, median.

    ``submit()`` submits one task and returns its future/reference;
    ``wait_all(futures)`` returns once every one of them has finished.
    ``warmup`` tasks are submitted and waited on first, untimed.
    Rates are tasks per second of the whole batch (submit + wait) and of the
    submit phase alone.
    """
    if warmup:
        wait_all([submit() for _ in range(warmup)])
    rates, submit_rates = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        futs = [submit() for _ in range(n)]
        t1 = time.perf_counter()
        wait_all(futs)
        t2 = time.perf_counter()
        rates.append(n / (t2 - t0))
        submit_rates.append(n / (t1 - t0))
        del futs
    return {
        "throughput_tasks_per_s": statistics.median(rates),
        "throughput_all": rates,
        "submit_rate_tasks_per_s": statistics.median(submit_rates),
        "throughput_batch": n,
    }


def latency(round_trip: Callable[[], Any], n: int) -> dict[str, float]:
    """Percentiles of ``n`` sequential ``round_trip()`` calls (submit one task, get its result)."""
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        round_trip()
        lat.append(time.perf_counter() - t0)
    return percentiles(lat)


def chain(
    first: Callable[[], Any],
    step: Callable[[Any], Any],
    n: int,
    result: Callable[[Any], Any],
) -> tuple[float, Any]:
    """Time ``first()`` then ``n`` dependent ``step(previous)`` calls, up to ``result(last)``.

    Returns (seconds, value of the last task).
    """
    t0 = time.perf_counter()
    f = first()
    for _ in range(n):
        f = step(f)
    value = result(f)
    return time.perf_counter() - t0, value


def bandwidth(
    echo: Callable[[bytes], Any],
    result: Callable[[Any], bytes],
    n: int,
) -> dict[str, Any]:
    """``n`` tasks of 1 MB in / fresh 1 MB out, all submitted at once.

    ``echo(payload)`` submits one task and returns its future/reference;
    ``result(future)`` returns its bytes.  Results are fetched one at a time.
    One untimed warm-up task first.  MB/s counts both directions.
    """
    payload = bytes(MB)
    result(echo(payload))  # warm-up
    t0 = time.perf_counter()
    futs = [echo(payload) for _ in range(n)]
    total = sum(len(result(f)) for f in futs)
    dt = time.perf_counter() - t0
    assert total == n * MB
    del futs
    return {"tasks": n, "wall_s": dt, "MB_per_s_both_directions": 2 * n / dt}


def futures_basics(
    out: dict[str, Any],
    tag: str,
    noop: Callable[[], Any],
    dep: Callable[[Any], Any],
    *,
    n_tput: int,
    repeats: int,
    warmup: int,
    n_lat: int,
    n_chain: int,
    latency_ms: bool = False,
) -> None:
    """Throughput, latency and dependency chain for apps returning ``.result()`` futures.

    ``noop()`` returns a future of 7, ``dep(x)`` a future of ``x`` (taking a future).
    Fills the keys throughput_*, submit_rate_tasks_per_s, latency, chain_s and
    chain_len of ``out`` and prints one line for each measurement, prefixed by ``tag``.
    """
    out.update(throughput(noop, result_all, n_tput, repeats, warmup=warmup))
    print(f"{tag} {throughput_line(out)}", flush=True)

    out["latency"] = latency(lambda: noop().result(), n_lat)
    print(f"{tag} {latency_line(out['latency'], ms=latency_ms)}", flush=True)

    out["chain_s"], value = chain(noop, dep, n_chain, lambda f: f.result())
    assert value == 7
    out["chain_len"] = n_chain
    print(f"{tag} {chain_line(n_chain, out['chain_s'])}", flush=True)


# ---- report lines shared by several scripts ------------------------------------------


def throughput_line(r: dict[str, Any]) -> str:
    return (
        f"throughput {r['throughput_tasks_per_s']:.0f} tasks/s (batch {r['throughput_batch']}), "
        f"submit rate {r['submit_rate_tasks_per_s']:.0f} tasks/s"
    )


def latency_line(p: dict[str, float], ms: bool = False) -> str:
    if ms:
        return (
            f"latency p50 {p['p50_us'] / 1e3:.2f} ms, "
            f"p90 {p['p90_us'] / 1e3:.2f} ms, p99 {p['p99_us'] / 1e3:.2f} ms"
        )
    return f"latency p50 {p['p50_us']:.0f} us, p90 {p['p90_us']:.0f} us, p99 {p['p99_us']:.0f} us"


def chain_line(n: int, seconds: float) -> str:
    return f"chain of {n} dependent tasks: {seconds:.3f} s"


def bandwidth_line(bw: dict[str, Any]) -> str:
    return (
        f"1MB in/1MB out x{bw['tasks']}: {bw['MB_per_s_both_directions']:.0f} MB/s "
        f"({bw['wall_s']:.2f} s)"
    )


# ---- run header and driver/child plumbing ----------------------------------------------


def header(bench: str, quick: bool, **versions: str) -> dict[str, Any]:
    """The leading keys of a script's JSON line: bench, <lib>_version..., python, cpus, quick."""
    return {
        "bench": bench,
        **versions,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "quick": quick,
    }


def parse_quick() -> bool:
    """Command line of the single-process scripts: only --quick."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    return ap.parse_args().quick


def driver_parser() -> argparse.ArgumentParser:
    """--quick, --logging default|off|both, and the hidden --child of the per-mode child."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--logging", choices=["default", "off", "both"], default="both")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return ap


def logging_modes(choice: str) -> list[str]:
    return ["default", "off"] if choice == "both" else [choice]


def child_command(python: str, script: str, mode: str, quick: bool) -> list[str]:
    """Command line that re-runs ``script`` as a child measuring one logging mode."""
    cmd = [python, os.path.abspath(script), "--child", "--logging", mode]
    if quick:
        cmd.append("--quick")
    return cmd


def emit_child_json(out: dict[str, Any]) -> None:
    print(CHILD_MARKER + json.dumps(out), flush=True)


def relay_child_output(stdout: str) -> dict[str, Any] | None:
    """Print a child's lines, except its JSON line, which is parsed and returned (None if absent)."""
    child = None
    for line in stdout.splitlines():
        if line.startswith(CHILD_MARKER):
            child = json.loads(line[len(CHILD_MARKER) :])
        else:
            print(line)
    return child


def store_child(
    result: dict[str, Any], mode: str, returncode: int | None, child: Any, stderr: str
) -> None:
    """Record a child's figures as ``logging_<mode>``, or its error (echoing its stderr)."""
    if returncode != 0 or child is None:
        sys.stderr.write(stderr)
        result[f"logging_{mode}"] = {"error": f"rc={returncode}"}
    else:
        result[f"logging_{mode}"] = child
