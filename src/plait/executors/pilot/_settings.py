"""The pilot executor's settings: validation, the manager launch command, local addresses."""

from __future__ import annotations

import socket
from typing import Any

from plait._errors import ConfigurationError

#: keys a task's ``parsl_resource_specification`` may hold on this executor
RESOURCE_KEYS = frozenset({"cores", "memory", "priority"})

_AFFINITY = ("none", "block", "block-reverse", "alternating")


def default_launch_cmd() -> str:
    """The manager command a block runs; ``{python}`` picks interpreter or script name."""
    return ("{python} {debug} --max_workers_per_node={max_workers_per_node} "
            "-a {addresses} -p {prefetch_capacity} -c {cores_per_worker} "
            "-m {mem_per_worker} --poll {poll_period} --port={worker_port} "
            "--cert_dir {cert_dir} --logdir={logdir} --block_id={block_id} "
            "--hb_period={heartbeat_period} {address_probe_timeout_string} "
            "--hb_threshold={heartbeat_threshold} --drain_period={drain_period} "
            "--cpu-affinity {cpu_affinity} --available-accelerators {accelerators}")


def local_addresses() -> str:
    """Every IPv4 address of this host, loopback first, comma-separated (for probing)."""
    found = ["127.0.0.1"]
    try:
        import psutil

        for addrs in psutil.net_if_addrs().values():
            for a in addrs:
                if a.family == socket.AF_INET and a.address not in found:
                    found.append(a.address)
    except Exception:
        pass
    return ",".join(found)


def _number(ex: Any, name: str, minimum: float, allow_none: bool = False,
            strict: bool = False) -> None:
    value = getattr(ex, name)
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (
        value > minimum if strict else value >= minimum)
    if not ok:
        rel = ">" if strict else ">="
        raise ConfigurationError(name, value, f"a number {rel} {minimum}"
                                 + (" or None" if allow_none else ""))


def validate(ex: Any) -> None:
    """Check the executor's settings; raises ConfigurationError naming the field."""
    if not isinstance(ex.label, str) or not ex.label:
        raise ConfigurationError("label", ex.label, "a non-empty string")
    _number(ex, "cores_per_worker", 0, strict=True)
    _number(ex, "mem_per_worker", 0, allow_none=True)
    _number(ex, "max_workers_per_node", 1, allow_none=True)
    _number(ex, "prefetch_capacity", 0, allow_none=True)
    _number(ex, "heartbeat_period", 0, strict=True)
    _number(ex, "heartbeat_threshold", 0, strict=True)
    _number(ex, "address_probe_timeout", 0, allow_none=True, strict=True)
    _number(ex, "drain_period", 0, allow_none=True, strict=True)
    if ex.heartbeat_threshold <= ex.heartbeat_period:
        raise ConfigurationError("heartbeat_threshold", ex.heartbeat_threshold,
                                 f"a value above heartbeat_period={ex.heartbeat_period}",
                                 "a manager is declared lost after this long without a message")
    aff = ex.cpu_affinity
    if not isinstance(aff, str) or not (aff in _AFFINITY or aff.startswith("list:")):
        raise ConfigurationError("cpu_affinity", aff, "'none', 'block', 'block-reverse', "
                                 "'alternating' or 'list:<cpus>:<cpus>...'")
    selector = ex.manager_selector
    if selector is not None:
        from plait.executors.pilot._selectors import (
            BlockIdManagerSelector,
            RandomManagerSelector,
        )

        if type(selector) not in (RandomManagerSelector, BlockIdManagerSelector):
            raise ConfigurationError(
                "manager_selector", selector, "RandomManagerSelector() or "
                "BlockIdManagerSelector()", "The interchange orders managers itself; a "
                "selector of your own would be ignored, so plait refuses it.")
    for field in ("worker_port_range", "interchange_port_range"):
        lo, hi = getattr(ex, field)
        if not (0 < lo < hi <= 65536):
            raise ConfigurationError(field, (lo, hi), "a (low, high) port pair, low < high")
