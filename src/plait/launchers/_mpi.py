"""Launchers built on MPI-style job starters: mpiexec, mpirun, aprun (Cray), jsrun (LSF/IBM)."""

from __future__ import annotations

import shlex

from plait._validate import check_str
from plait.launchers._base import CopiesLauncher, hostfile_lines


class MpiExecLauncher(CopiesLauncher):
    """Runs the copies with ``mpiexec`` over the block's hosts (``$PBS_NODEFILE`` or this one).

    ``bind_cmd`` is the option that disables binding (``--bind-to none`` for MPICH and
    OpenMPI); ``overrides`` is added to the mpiexec line (e.g. ``--oversubscribe``).
    """

    starting = "mpiexec with $WORKERCOUNT copies, hosts in $HOSTFILE"

    def __init__(
        self, debug: bool = True, bind_cmd: str = "--bind-to", overrides: str = "",
    ) -> None:
        super().__init__(debug=debug, overrides=overrides)
        check_str("bind_cmd", bind_cmd, empty=True, owner="MpiExecLauncher")
        self.bind_cmd = bind_cmd

    def _fields(self) -> dict[str, object]:
        return {"bind_cmd": self.bind_cmd, "overrides": self.overrides}

    def _setup(self, script_dir: str) -> str:
        return hostfile_lines(script_dir)

    def _start(self, total: int, tasks_per_node: int) -> str:
        return (f"mpiexec {self.bind_cmd} none {self.overrides} -n {total} "
                '--hostfile "$HOSTFILE" /usr/bin/sh "$CMD_FILE"\n')


class MpiRunLauncher(CopiesLauncher):
    """Runs the copies with ``mpirun -np <total>``, each under ``bash_location``."""

    starting = "mpirun with $WORKERCOUNT copies"

    def __init__(
        self, debug: bool = True, bash_location: str = "/bin/bash", overrides: str = "",
    ) -> None:
        super().__init__(debug=debug, overrides=overrides)
        check_str("bash_location", bash_location, owner="MpiRunLauncher")
        self.bash_location = bash_location

    def _fields(self) -> dict[str, object]:
        return {"bash_location": self.bash_location, "overrides": self.overrides}

    def _start(self, total: int, tasks_per_node: int) -> str:
        return (f"mpirun -np {total} {self.overrides} {shlex.quote(self.bash_location)} "
                '"$CMD_FILE"\n')


class AprunLauncher(CopiesLauncher):
    """Runs the copies with Cray's ``aprun -n <total> -N <tasks_per_node>``."""

    starting = "aprun with $WORKERCOUNT copies"

    def _start(self, total: int, tasks_per_node: int) -> str:
        return (f'aprun -n {total} -N {tasks_per_node} {self.overrides} /bin/bash "$CMD_FILE" '
                "&\nwait $!\n")


class JsrunLauncher(CopiesLauncher):
    """Runs the copies with IBM's ``jsrun -n <total> -r <tasks_per_node>`` (LSF systems)."""

    starting = "jsrun with $WORKERCOUNT copies"

    def _start(self, total: int, tasks_per_node: int) -> str:
        return (f'jsrun -n {total} -r {tasks_per_node} {self.overrides} /bin/bash "$CMD_FILE" '
                "&\nwait $!\n")
