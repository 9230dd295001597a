"""How many workers a node runs, and which CPUs and accelerator each one gets (pure functions)."""

from __future__ import annotations

import math
import os


def worker_count(
    cores_on_node: float, mem_gb: float | None, cores_per_worker: float,
    mem_per_worker: float | None, max_workers_per_node: float | None, accelerators: int,
) -> int:
    """The manager-side worker count (Parsl's rule), at least 1.

    The minimum of ``max_workers_per_node``, ``floor(cores / cores_per_worker)``,
    ``floor(mem / mem_per_worker)`` (when set) and the number of accelerators (when any).
    """
    counts = [math.inf if max_workers_per_node is None else max_workers_per_node,
              math.floor(cores_on_node / cores_per_worker)]
    if mem_per_worker and mem_per_worker > 0 and mem_gb is not None:
        counts.append(math.floor(mem_gb / mem_per_worker))
    if accelerators:
        counts.append(accelerators)
    return max(1, int(min(counts)))


def parse_cpu_list(spec: str) -> list[list[int]]:
    """``'list:0-1,2:3,4'`` -> ``[[0, 1, 2], [3, 4]]``: one CPU group per worker."""
    groups = []
    for group in spec.removeprefix("list:").split(":"):
        cpus: list[int] = []
        for part in group.split(","):
            lo, _, hi = part.strip().partition("-")
            cpus.extend(range(int(lo), int(hi or lo) + 1))
        groups.append(cpus)
    return groups


def cpu_assignment(mode: str, workers: int, cores_per_worker: float,
                   cpus: list[int]) -> list[list[int]] | None:
    """CPUs for each worker under a ``cpu_affinity`` mode; None for ``'none'``.

    ``block``: consecutive CPUs; ``block-reverse``: the same blocks, last worker first;
    ``alternating``: worker i gets every ``workers``-th CPU from i; ``list:...``: explicit.
    """
    if mode == "none":
        return None
    if mode.startswith("list:"):
        groups = parse_cpu_list(mode)
        if len(groups) < workers:
            raise ValueError(f"cpu_affinity {mode!r} names {len(groups)} CPU group(s) for "
                             f"{workers} workers; give one group per worker")
        return groups[:workers]
    per = max(1, math.floor(cores_per_worker))
    if mode in ("block", "block-reverse"):
        blocks = [[cpus[(i * per + j) % len(cpus)] for j in range(per)] for i in range(workers)]
        return blocks[::-1] if mode == "block-reverse" else blocks
    if mode == "alternating":
        return [cpus[i::workers][:per] or [cpus[i % len(cpus)]] for i in range(workers)]
    raise ValueError(f"cpu_affinity={mode!r}: expected 'none', 'block', 'block-reverse', "
                     "'alternating' or 'list:<cpus>:<cpus>...'")


def affinity_env(cpus: list[int]) -> dict[str, str]:
    """Environment variables that pin OpenMP runtimes to ``cpus``."""
    listed = ",".join(str(c) for c in cpus)
    return {"OMP_NUM_THREADS": str(len(cpus)), "GOMP_CPU_AFFINITY": listed,
            "KMP_AFFINITY": f"explicit,proclist=[{listed}]"}


def accelerator_env(name: str) -> dict[str, str]:
    """Environment variables that pin a worker to one accelerator (NVIDIA, AMD, Intel)."""
    return {"CUDA_VISIBLE_DEVICES": name, "ROCR_VISIBLE_DEVICES": name,
            "ZE_AFFINITY_MASK": name, "ZE_ENABLE_PCI_ID_DEVICE_ORDER": "1"}


def node_resources() -> tuple[float, float]:
    """Cores and available memory (GB) on this node; ``$PARSL_CORES``/``$PARSL_MEMORY_GB`` win."""
    if os.environ.get("PARSL_CORES"):
        cores = float(os.environ["PARSL_CORES"])
    elif hasattr(os, "sched_getaffinity"):
        cores = float(len(os.sched_getaffinity(0)))
    else:
        cores = float(os.cpu_count() or 1)
    if os.environ.get("PARSL_MEMORY_GB"):
        return cores, float(os.environ["PARSL_MEMORY_GB"])
    import psutil

    return cores, psutil.virtual_memory().available / 2**30
