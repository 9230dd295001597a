"""MPI tasks on a worker: check a task's MPI request, give it nodes of the block, run it.

    MPIExecutor.submit ── MPIRunner(func), (request, args, kwargs) ──▶ worker process
    worker: nodes = the block's node list (Slurm, PBS, or this host)
            lock num_nodes of them (one lock file per node, shared by the block's workers)
            export PARSL_NUM_RANKS, PARSL_MPI_NODELIST, PARSL_MPI_PREFIX, ... → func(...)

A worker runs one task at a time, so it can set the task's variables in its own environment
(bash apps and subprocesses inherit them) and restore them afterwards. Node locks are
``flock``s: a worker that dies releases its nodes with its file descriptors.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from plait.executors._errors import InvalidResourceSpecification

#: the parsl_resource_specification keys an MPI task may give
MPI_KEYS = frozenset({"num_nodes", "ranks_per_node", "num_ranks", "launcher_options",
                      "priority"})
MPI_LAUNCHERS = ("mpiexec", "srun", "aprun")
#: environment variable naming the block's node-lock directory (set by MPIExecutor)
LOCKS_ENV = "PLAIT_MPI_NODE_LOCKS"


@dataclass(frozen=True, slots=True)
class MPIRequest:
    """What one MPI task asks for: nodes, ranks, extra launcher options."""

    num_nodes: int
    ranks_per_node: int
    num_ranks: int
    launcher_options: str = ""


def _count(spec: Mapping[str, Any], key: str) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidResourceSpecification(
            [key], f"{key}={value!r} must be an int >= 1")
    return value


def parse_request(spec: Mapping[str, Any] | None) -> MPIRequest:
    """The task's MPI request from its ``parsl_resource_specification``.

    ``num_nodes`` defaults to 1; of ``num_ranks`` and ``ranks_per_node`` one may be left
    out and is derived from the other.

    Raises:
        InvalidResourceSpecification: missing, unknown, or inconsistent keys.
    """
    if not spec:
        raise InvalidResourceSpecification(
            [], "MPIExecutor tasks need parsl_resource_specification={'num_nodes': N, "
            "'num_ranks': R} (or 'ranks_per_node'); the app must be called with it")
    unknown = sorted(set(spec) - MPI_KEYS)
    if unknown:
        raise InvalidResourceSpecification(
            unknown, f"MPIExecutor accepts only {', '.join(sorted(MPI_KEYS))}")
    nodes = _count(spec, "num_nodes") or 1
    ranks, per_node = _count(spec, "num_ranks"), _count(spec, "ranks_per_node")
    if ranks is None and per_node is None:
        raise InvalidResourceSpecification(
            ["num_ranks", "ranks_per_node"], "give num_ranks or ranks_per_node (or both)")
    if ranks is None:
        ranks = nodes * (per_node or 1)
    if per_node is None:
        per_node = math.ceil(ranks / nodes)
    if ranks > nodes * per_node:
        raise InvalidResourceSpecification(
            ["num_ranks"], f"num_ranks={ranks} do not fit on num_nodes={nodes} with "
            f"ranks_per_node={per_node}")
    options = spec.get("launcher_options", "")
    if not isinstance(options, str):
        raise InvalidResourceSpecification(
            ["launcher_options"], f"launcher_options={options!r} must be a string")
    return MPIRequest(nodes, per_node, ranks, options)


def mpi_flavour() -> str:
    """``"openmpi"`` or ``"mpich"`` (MPICH, Intel MPI, Cray PALS), from ``mpiexec --version``."""
    try:
        out = subprocess.run(["mpiexec", "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "mpich"
    return "openmpi" if "Open MPI" in out or "OpenRTE" in out else "mpich"


def compose_prefixes(req: MPIRequest, nodes: list[str], flavour: str) -> dict[str, str]:
    """The launch prefix of each MPI launcher for this task on ``nodes``."""
    hosts, opts = ",".join(nodes), req.launcher_options
    if flavour == "openmpi":  # Open MPI names slots per host; it has no -ppn/-hosts
        slots = ",".join(f"{n}:{req.ranks_per_node}" for n in nodes)
        mpiexec = f"mpiexec -n {req.num_ranks} --host {slots}"
    else:
        mpiexec = f"mpiexec -n {req.num_ranks} -ppn {req.ranks_per_node} -hosts {hosts}"
    prefixes = {
        "mpiexec": mpiexec,
        "srun": (f"srun -N {req.num_nodes} -n {req.num_ranks} "
                 f"--ntasks-per-node={req.ranks_per_node} --nodelist={hosts}"),
        "aprun": f"aprun -n {req.num_ranks} -N {req.ranks_per_node} -node-list {hosts}",
    }
    return {k: f"{v} {opts}".rstrip() for k, v in prefixes.items()}


def _expand_slurm(nodelist: str) -> list[str]:
    try:
        out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True,
                             text=True, timeout=30, check=True).stdout
        return out.split()
    except (OSError, subprocess.SubprocessError):
        return [nodelist] if "[" not in nodelist else []


def block_nodes() -> list[str]:
    """The nodes of the batch job this worker runs in (this host outside a batch job)."""
    if "PLAIT_MPI_NODELIST" in os.environ:  # an explicit list, for sites the rules miss
        return [n for n in os.environ["PLAIT_MPI_NODELIST"].split(",") if n]
    if "SLURM_JOB_NODELIST" in os.environ:
        nodes = _expand_slurm(os.environ["SLURM_JOB_NODELIST"])
        if nodes:
            return nodes
    if "PBS_NODEFILE" in os.environ:
        with open(os.environ["PBS_NODEFILE"]) as f:
            return list(dict.fromkeys(line.strip() for line in f if line.strip()))
    return [socket.gethostname()]


@contextlib.contextmanager
def locked_nodes(count: int, nodes: list[str], lock_dir: str) -> Iterator[list[str]]:
    """Hold ``count`` of ``nodes`` for the duration of the block, waiting for busy ones.

    One worker allocates at a time (``.alloc`` lock): it takes free nodes without waiting
    and, if too few are free, waits on a busy one's lock; a worker releasing nodes needs no
    lock, so the wait always ends.
    """
    import fcntl

    if count > len(nodes):
        raise InvalidResourceSpecification(
            ["num_nodes"], f"the task asks for {count} nodes, but its block has "
            f"{len(nodes)} ({', '.join(nodes)}); raise the provider's nodes_per_block")
    os.makedirs(lock_dir, exist_ok=True)
    held: list[tuple[str, int]] = []
    alloc = os.open(os.path.join(lock_dir, ".alloc"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(alloc, fcntl.LOCK_EX)  # blocks while another worker allocates
        while len(held) < count:
            waiting_on = None
            for node in nodes:
                if len(held) == count:
                    break
                if node in (n for n, _ in held):
                    continue
                fd = os.open(os.path.join(lock_dir, node), os.O_CREAT | os.O_RDWR, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held.append((node, fd))
                except BlockingIOError:
                    if waiting_on is None:
                        waiting_on = fd
                    else:
                        os.close(fd)
            if len(held) < count and waiting_on is not None:
                fcntl.flock(waiting_on, fcntl.LOCK_EX)  # until its task ends
                os.close(waiting_on)  # closing drops the lock: the next pass retakes it
            elif waiting_on is not None:
                os.close(waiting_on)
        fcntl.flock(alloc, fcntl.LOCK_UN)
        yield [n for n, _ in held]
    finally:
        os.close(alloc)
        for _, fd in held:
            os.close(fd)


@contextlib.contextmanager
def task_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class MPIRunner:
    """The function an MPI task sends to its worker: ``func`` run with nodes and variables.

    One per app function (so the function is pickled once); the task's request travels as
    the first argument.
    """

    def __init__(self, func: Callable[..., Any], launcher: str) -> None:
        self.func, self.launcher = func, launcher
        self.__name__ = getattr(func, "__name__", type(func).__name__)

    def __call__(self, req: MPIRequest, *args: Any, **kwargs: Any) -> Any:
        nodes = block_nodes()
        lock_dir = os.environ.get(LOCKS_ENV) or os.path.join(
            os.getcwd(), f".plait-mpi-{os.environ.get('PARSL_WORKER_POOL_ID', 'pool')}")
        with locked_nodes(req.num_nodes, nodes, lock_dir) as mine:
            prefixes = compose_prefixes(req, mine, _FLAVOUR.get())
            env = {"PARSL_NUM_NODES": str(req.num_nodes),
                   "PARSL_RANKS_PER_NODE": str(req.ranks_per_node),
                   "PARSL_NUM_RANKS": str(req.num_ranks),
                   "PARSL_LAUNCHER_OPTIONS": req.launcher_options,
                   "PARSL_MPI_NODELIST": ",".join(mine),
                   "PARSL_MPIEXEC_PREFIX": prefixes["mpiexec"],
                   "PARSL_SRUN_PREFIX": prefixes["srun"],
                   "PARSL_APRUN_PREFIX": prefixes["aprun"],
                   "PARSL_MPI_PREFIX": prefixes[self.launcher]}
            with task_environment(env):
                return self.func(*args, **kwargs)


class _Flavour:
    """``mpi_flavour()``, asked once per worker process."""

    value: str | None = None

    def get(self) -> str:
        if self.value is None:
            self.value = mpi_flavour()
        return self.value


_FLAVOUR = _Flavour()
