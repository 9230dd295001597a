"""Launchers built on MPI-style job starters: mpiexec, mpirun, aprun (Cray), jsrun (LSF/IBM)."""

from __future__ import annotations

import shlex

from plait.launchers._base import Launcher, check_counts, cmd_file_lines, hostfile_lines


class MpiExecLauncher(Launcher):
    """Runs the copies with ``mpiexec`` over the block's hosts (``$PBS_NODEFILE`` or this one).

    ``bind_cmd`` is the option that disables binding (``--bind-to none`` for MPICH and
    OpenMPI); ``overrides`` is added to the mpiexec line (e.g. ``--oversubscribe``).
    """

    def __init__(
        self, debug: bool = True, bind_cmd: str = "--bind-to", overrides: str = "",
    ) -> None:
        super().__init__(debug=debug)
        self.bind_cmd, self.overrides = bind_cmd, overrides

    def _fields(self) -> dict[str, object]:
        return {"bind_cmd": self.bind_cmd, "overrides": self.overrides}

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        total = check_counts(self, tasks_per_node, nodes_per_block)
        return (
            f"WORKERCOUNT={total}\n"
            + hostfile_lines(script_dir)
            + cmd_file_lines(command, script_dir)
            + self._echo("mpiexec with $WORKERCOUNT copies, hosts in $HOSTFILE")
            + f"mpiexec {self.bind_cmd} none {self.overrides} -n {total} "
            + '--hostfile "$HOSTFILE" /usr/bin/sh "$CMD_FILE"\n'
            + self._finish()
        )


class MpiRunLauncher(Launcher):
    """Runs the copies with ``mpirun -np <total>``, each under ``bash_location``."""

    def __init__(
        self, debug: bool = True, bash_location: str = "/bin/bash", overrides: str = "",
    ) -> None:
        super().__init__(debug=debug)
        self.bash_location, self.overrides = bash_location, overrides

    def _fields(self) -> dict[str, object]:
        return {"bash_location": self.bash_location, "overrides": self.overrides}

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        total = check_counts(self, tasks_per_node, nodes_per_block)
        return (
            f"WORKERCOUNT={total}\n"
            + cmd_file_lines(command, script_dir)
            + self._echo("mpirun with $WORKERCOUNT copies")
            + f"mpirun -np {total} {self.overrides} {shlex.quote(self.bash_location)} "
            + '"$CMD_FILE"\n'
            + self._finish()
        )


class AprunLauncher(Launcher):
    """Runs the copies with Cray's ``aprun -n <total> -N <tasks_per_node>``."""

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.overrides = overrides

    def _fields(self) -> dict[str, object]:
        return {"overrides": self.overrides}

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        total = check_counts(self, tasks_per_node, nodes_per_block)
        return (
            f"WORKERCOUNT={total}\n"
            + cmd_file_lines(command, script_dir)
            + self._echo("aprun with $WORKERCOUNT copies")
            + f'aprun -n {total} -N {tasks_per_node} {self.overrides} /bin/bash "$CMD_FILE" &\n'
            + "wait $!\n"
            + self._finish()
        )


class JsrunLauncher(Launcher):
    """Runs the copies with IBM's ``jsrun -n <total> -r <tasks_per_node>`` (LSF systems)."""

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.overrides = overrides

    def _fields(self) -> dict[str, object]:
        return {"overrides": self.overrides}

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        total = check_counts(self, tasks_per_node, nodes_per_block)
        return (
            f"WORKERCOUNT={total}\n"
            + cmd_file_lines(command, script_dir)
            + self._echo("jsrun with $WORKERCOUNT copies")
            + f'jsrun -n {total} -r {tasks_per_node} {self.overrides} /bin/bash "$CMD_FILE" &\n'
            + "wait $!\n"
            + self._finish()
        )
