"""MPIExecutor: a pilot executor whose tasks are MPI applications spanning nodes of a block.

Each block runs one manager (on its first node, with SimpleLauncher) and up to
``max_workers_per_block`` workers; a task names the nodes and ranks it needs in its
``parsl_resource_specification`` and gets them from the block's nodes (see _mpi_task), with
``$PARSL_MPI_PREFIX`` (e.g. ``mpiexec -n 4 --host a:2,b:2``) set for its command line.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Any

from plait._lightfuture import LightFuture
from plait._validate import check_choice, check_int, fail
from plait.executors._blocks import ErrorHandler
from plait.executors.pilot._executor import HighThroughputExecutor
from plait.executors.pilot._mpi_task import LOCKS_ENV, MPI_LAUNCHERS, MPIRunner, parse_request


class MPIExecutor(HighThroughputExecutor):
    """Run MPI applications as tasks inside blocks (Parsl's ``MPIExecutor``).

    Every task must be called with ``parsl_resource_specification={'num_nodes': N,
    'num_ranks': R}`` (or ``'ranks_per_node'``, and optionally ``'launcher_options'``); its
    command line starts the application with ``$PARSL_MPI_PREFIX``::

        @bash_app
        def solve(n, parsl_resource_specification={}):
            return f"$PARSL_MPI_PREFIX ./solver {n}"

        solve(8, parsl_resource_specification={"num_nodes": 2, "ranks_per_node": 4})

    The variables PARSL_NUM_NODES, PARSL_RANKS_PER_NODE, PARSL_NUM_RANKS,
    PARSL_MPI_NODELIST and PARSL_{MPIEXEC,SRUN,APRUN}_PREFIX are set too. The provider's
    launcher must be SimpleLauncher (one manager per block; the tasks' own ``mpiexec`` or
    ``srun`` reach the other nodes).

    Differences from Parsl: with Open MPI's ``mpiexec`` the prefix uses ``--host
    node:slots`` (Open MPI has no ``-ppn``/``-hosts``); heartbeats default to plait's short
    values; the nodes of a block come from Slurm, PBS, ``$PLAIT_MPI_NODELIST``, or are this
    host.
    """

    def __init__(
        self, label: str = "MPIExecutor", provider: Any = None,
        launch_cmd: str | None = None, interchange_launch_cmd: Sequence[str] | None = None,
        address: str | None = None, loopback_address: str = "127.0.0.1",
        worker_port: int | None = None, worker_port_range: tuple[int, int] = (54000, 55000),
        interchange_port_range: tuple[int, int] = (55000, 56000),
        storage_access: list[Any] | None = None, working_dir: str | None = None,
        worker_debug: bool = False, max_workers_per_block: int = 1,
        prefetch_capacity: int = 0, heartbeat_threshold: float = 8.0,
        heartbeat_period: float = 2.0, drain_period: float | None = None,
        poll_period: int = 10, address_probe_timeout: float | None = None,
        worker_logdir_root: str | None = None, mpi_launcher: str = "mpiexec",
        block_error_handler: bool | ErrorHandler = True, encrypted: bool = False,
        remote_monitoring_radio: Any = None, start_timeout: float = 60.0,
    ) -> None:
        from plait.launchers import SimpleLauncher
        from plait.providers import LocalProvider

        if provider is None:
            provider = LocalProvider(launcher=SimpleLauncher())
        launcher = getattr(provider, "launcher", None)
        if not isinstance(launcher, SimpleLauncher):
            raise fail("provider", provider, "a provider whose launcher is SimpleLauncher() "
                       "(one manager per block)", "MPIExecutor",
                       f"Its launcher is {launcher!r}; the tasks start their ranks with "
                       "$PARSL_MPI_PREFIX.")
        check_choice("mpi_launcher", mpi_launcher, MPI_LAUNCHERS, owner="MPIExecutor")
        check_int("max_workers_per_block", max_workers_per_block, low=1, owner="MPIExecutor")
        super().__init__(
            label=label, provider=provider, launch_cmd=launch_cmd,
            interchange_launch_cmd=interchange_launch_cmd, address=address,
            loopback_address=loopback_address, worker_port=worker_port,
            worker_port_range=worker_port_range, interchange_port_range=interchange_port_range,
            storage_access=storage_access, working_dir=working_dir, worker_debug=worker_debug,
            # workers are not bound to cores: each MPI task uses whole nodes
            cores_per_worker=1e-9, max_workers_per_node=max_workers_per_block,
            prefetch_capacity=prefetch_capacity, heartbeat_threshold=heartbeat_threshold,
            heartbeat_period=heartbeat_period, drain_period=drain_period,
            poll_period=poll_period, address_probe_timeout=address_probe_timeout,
            worker_logdir_root=worker_logdir_root, block_error_handler=block_error_handler,
            encrypted=encrypted, remote_monitoring_radio=remote_monitoring_radio,
            start_timeout=start_timeout)
        self.max_workers_per_block = max_workers_per_block
        self.mpi_launcher = mpi_launcher
        self._runners: dict[Any, MPIRunner] = {}

    def __repr__(self) -> str:
        return f"MPIExecutor(label={self.label!r})"

    def validate_resource_spec(self, resource_specification: dict[str, Any]) -> None:
        """Raise InvalidResourceSpecification unless the task's MPI request is complete."""
        parse_request(resource_specification)

    def _get_launch_command(self, block_id: str) -> str:
        locks = f"{self.logdir}/block-{block_id}/mpi-nodes"
        return f"{LOCKS_ENV}={shlex.quote(locks)} {super()._get_launch_command(block_id)}"

    def _runner(self, func: Callable[..., Any]) -> MPIRunner:
        try:
            runner = self._runners.get(func)
        except TypeError:  # an unhashable callable: no reuse
            return MPIRunner(func, self.mpi_launcher)
        if runner is None:
            runner = self._runners.setdefault(func, MPIRunner(func, self.mpi_launcher))
        return runner

    def submit(self, func: Callable[..., Any], resource_specification: dict[str, Any],
               *args: Any, **kwargs: Any) -> LightFuture[Any]:
        """Run ``func`` as an MPI task with the nodes and ranks its specification names.

        Raises:
            InvalidResourceSpecification: no specification, unknown keys, or ranks that do
                not fit the nodes asked for.
        """
        req = parse_request(resource_specification)
        priority = resource_specification.get("priority")
        spec = {} if priority is None else {"priority": priority}
        return super().submit(self._runner(func), spec, req, *args, **kwargs)
