"""The pilot executor's settings: validation, the manager launch command, addresses."""

from __future__ import annotations

import ipaddress
import math
import socket
import string
from typing import Any

from plait._validate import (
    check_bool,
    check_int,
    check_list,
    check_methods,
    check_number,
    check_radio,
    check_str,
    check_str_list,
    fail,
    is_int,
)

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
            "--cpu-affinity {cpu_affinity} {monitoring} {ipc} "
            "--available-accelerators {accelerators}")


#: the format fields a ``launch_cmd`` may use (HighThroughputExecutor._get_launch_command)
LAUNCH_FIELDS = frozenset({
    "python", "debug", "max_workers_per_node", "addresses", "prefetch_capacity",
    "cores_per_worker", "mem_per_worker", "poll_period", "worker_port", "cert_dir", "logdir",
    "block_id", "heartbeat_period", "heartbeat_threshold", "address_probe_timeout_string",
    "drain_period", "cpu_affinity", "accelerators", "monitoring", "ipc"})


def check_launch_cmd(launch_cmd: str | None, owner: str) -> None:
    """A ``launch_cmd`` template runs plait's manager and uses only LAUNCH_FIELDS; a Parsl
    template (``process_worker_pool.py``, ``{logconf}``) fails here, not when a block starts."""
    if launch_cmd is None:
        return
    hint = ("leave launch_cmd=None, or start plait's manager with '{python}' (or "
            "plait-worker-pool) and plait's fields: " + ", ".join(sorted(LAUNCH_FIELDS)))
    if "process_worker_pool" in launch_cmd:
        raise fail("launch_cmd", launch_cmd, "a command that starts plait's manager", owner,
                   "Parsl's process_worker_pool.py cannot talk to plait's interchange; " + hint)
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(launch_cmd) if f is not None}
    except ValueError as exc:
        raise fail("launch_cmd", launch_cmd, f"a str.format template ({exc})", owner,
                   hint) from None
    unknown = sorted(f for f in fields if f.split(".")[0].split("[")[0] not in LAUNCH_FIELDS)
    if unknown:
        raise fail("launch_cmd", launch_cmd, "a template using plait's format fields", owner,
                   f"unknown field(s) {', '.join('{' + f + '}' for f in unknown)}; " + hint)


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


def is_ip(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address literal."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address, or ``localhost``) names this host's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def blocks_are_local(provider: Any) -> bool:
    """Whether every block of ``provider`` runs on this host (its ``is_local`` attribute)."""
    return bool(getattr(provider, "is_local", False))


def worker_bind(ex: Any) -> str:
    """Where the interchange listens for managers.

    Loopback when every block runs on this host and the managers are given no other
    address: no other host can reach the port. Otherwise every interface (``*``), as in
    Parsl: a block elsewhere must reach it over whichever interface routes.
    """
    if blocks_are_local(ex.provider) and (ex.address is None or is_loopback(ex.address)):
        return str(ex.loopback_address)
    return "*"


def validate(ex: Any) -> None:
    """Check the executor's settings; raises ConfigurationError naming the field."""
    owner = "HighThroughputExecutor"
    check_str("label", ex.label, owner=owner)
    check_methods("provider", ex.provider, ("submit", "status", "cancel"),
                  "a provider instance such as LocalProvider()", owner=owner)
    check_str("launch_cmd", ex.launch_cmd, none=True, owner=owner)
    check_launch_cmd(ex.launch_cmd, owner)
    check_str_list("interchange_launch_cmd", ex.interchange_launch_cmd, none=True, owner=owner)
    check_str("address", ex.address, none=True, owner=owner)
    if not isinstance(ex.loopback_address, str) or not is_ip(ex.loopback_address):
        raise fail("loopback_address", ex.loopback_address,
                   "an IP address of this host, such as '127.0.0.1' or '::1'", owner)
    check_int("worker_port", ex.worker_port, low=1, high=65535, none=True, owner=owner)
    for field in ("worker_port_range", "interchange_port_range"):
        ports = getattr(ex, field)
        if not (isinstance(ports, (tuple, list)) and len(ports) == 2 and all(map(is_int, ports))
                and 0 < ports[0] < ports[1] <= 65536):
            raise fail(field, ports, "a (low, high) pair of ports, 0 < low < high <= 65536",
                       owner)
    for field in ("working_dir", "worker_logdir_root"):
        check_str(field, getattr(ex, field), none=True, owner=owner)
    check_list("storage_access", ex.storage_access, "a list of staging providers", none=True,
               owner=owner, item_methods=("can_stage_in", "can_stage_out"))
    check_radio(ex.remote_monitoring_radio, owner)
    for field in ("worker_debug", "encrypted", "sandbox"):
        check_bool(field, getattr(ex, field), owner=owner)
    check_number("cores_per_worker", ex.cores_per_worker, low=0, strict=True, owner=owner)
    check_number("mem_per_worker", ex.mem_per_worker, low=0, none=True, owner=owner,
                 kind="a number of GB")
    if ex.max_workers_per_node != math.inf:
        check_int("max_workers_per_node", ex.max_workers_per_node, low=1, none=True,
                  owner=owner)
    check_int("prefetch_capacity", ex.prefetch_capacity, low=0, none=True, owner=owner)
    check_int("shared_cache_bytes", ex.shared_cache_bytes, low=0, owner=owner)
    check_number("heartbeat_period", ex.heartbeat_period, low=0, strict=True, owner=owner,
                 kind="a number of seconds")
    check_number("heartbeat_threshold", ex.heartbeat_threshold, low=ex.heartbeat_period,
                 strict=True, owner=owner, kind="a number of seconds (above heartbeat_period)")
    for field in ("address_probe_timeout", "drain_period"):
        check_number(field, getattr(ex, field), low=0, strict=True, none=True, owner=owner,
                     kind="a number of seconds")
    check_number("poll_period", ex.poll_period, low=0, owner=owner, kind="a number of ms")
    check_number("start_timeout", ex.start_timeout, low=0, strict=True, owner=owner,
                 kind="a number of seconds")
    aff = ex.cpu_affinity
    if not isinstance(aff, str) or not (aff in _AFFINITY or aff.startswith("list:")):
        raise fail("cpu_affinity", aff, "'none', 'block', 'block-reverse', 'alternating' or "
                   "'list:<cpus>:<cpus>...'", owner)
    acc = ex.available_accelerators
    if not (is_int(acc) and acc >= 0):
        check_str_list("available_accelerators", acc, owner=owner)
    selector = ex.manager_selector
    if selector is not None:
        from plait.executors.pilot._selectors import (
            BlockIdManagerSelector,
            RandomManagerSelector,
        )

        if type(selector) not in (RandomManagerSelector, BlockIdManagerSelector):
            raise fail("manager_selector", selector, "RandomManagerSelector() or "
                       "BlockIdManagerSelector()", owner, "The interchange orders managers "
                       "itself; a selector of your own would be ignored, so plait refuses it.")
