"""Command-line arguments of the manager (``plait-worker-pool``), close to Parsl's worker pool."""

from __future__ import annotations

import argparse
import math


def _optional_float(text: str) -> float | None:
    return None if text in ("None", "none", "") else float(text)


def _max_workers(text: str) -> float:
    return math.inf if text in ("None", "none", "inf", "") else float(text)


def _prefetch(text: str) -> int | None:
    return None if text in ("auto", "None", "none", "") else int(text)


def _optional_path(text: str) -> str | None:
    return None if text in ("None", "none", "") else text


def build_parser() -> argparse.ArgumentParser:
    """The manager's argument parser."""
    p = argparse.ArgumentParser(prog="plait-worker-pool",
                                description="Run one node's workers for a plait interchange.")
    p.add_argument("-a", "--addresses", required=True,
                   help="comma-separated addresses of the interchange; the first to answer wins")
    p.add_argument("--port", type=int, required=True, help="the interchange's worker port")
    p.add_argument("--cert_dir", type=_optional_path, default=None,
                   help="CurveZMQ key directory (encrypted executors)")
    p.add_argument("--ipc", type=_optional_path, default=None,
                   help="the interchange's Unix socket (a manager on the submitting host)")
    p.add_argument("--logdir", default=".", help="log directory root")
    p.add_argument("-b", "--block_id", default="0", help="the block this manager belongs to")
    p.add_argument("--uid", default=None, help="manager id (default: random)")
    p.add_argument("--max_workers_per_node", type=_max_workers, default=math.inf)
    p.add_argument("-c", "--cores_per_worker", type=float, default=1.0)
    p.add_argument("-m", "--mem_per_worker", type=_optional_float, default=None,
                   help="GB per worker")
    p.add_argument("-p", "--prefetch_capacity", type=_prefetch, default=None,
                   help="extra tasks held beyond the worker count; 'auto' = one per worker")
    p.add_argument("--poll", type=float, default=10, help="accepted for compatibility (ms)")
    p.add_argument("--hb_period", dest="heartbeat_period", type=float, default=2.0)
    p.add_argument("--hb_threshold", dest="heartbeat_threshold", type=float, default=8.0)
    p.add_argument("--address_probe_timeout", type=float, default=30.0)
    p.add_argument("--drain_period", type=_optional_float, default=None)
    p.add_argument("--cpu-affinity", dest="cpu_affinity", default="none")
    p.add_argument("--available-accelerators", dest="accelerators", nargs="*", default=[])
    p.add_argument("--monitoring", default=None,
                   help="resource monitoring: interval and radio (set by the executor)")
    p.add_argument("-d", "--debug", action="store_true")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the manager's arguments."""
    return build_parser().parse_args(argv)
