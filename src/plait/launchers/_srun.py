"""Slurm launchers: one srun for all copies, or one srun per group of nodes (for MPI apps)."""

from __future__ import annotations

from plait.launchers._base import Launcher, check_counts, cmd_file_lines


class SrunLauncher(Launcher):
    """Runs ``tasks_per_node * nodes_per_block`` copies with one ``srun`` inside a Slurm job."""

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
            "export CORES=$SLURM_CPUS_ON_NODE\n"
            "export NODES=$SLURM_JOB_NUM_NODES\n"
            + self._echo("Found cores : $CORES")
            + self._echo("Found nodes : $NODES")
            + f"WORKERCOUNT={total}\n"
            + cmd_file_lines(command, script_dir)
            + self._echo("srun with $WORKERCOUNT tasks")
            + f'srun --ntasks {total} -l {self.overrides} bash "$CMD_FILE"\n'
            + self._finish()
        )


class SrunMPILauncher(Launcher):
    """Splits a Slurm job into ``tasks_per_node`` groups, one ``srun`` each.

    Meant for workers that themselves launch MPI applications: each group gets
    ``NODES / tasks_per_node`` whole nodes (``--exclusive``), or, when there are more groups
    than nodes, ``NODES * CORES / tasks_per_node`` cores.
    """

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.overrides = overrides

    def _fields(self) -> dict[str, object]:
        return {"overrides": self.overrides}

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        check_counts(self, tasks_per_node, nodes_per_block)
        ov = self.overrides
        return (
            "export CORES=$SLURM_CPUS_ON_NODE\n"
            "export NODES=$SLURM_JOB_NUM_NODES\n"
            + self._echo("Found cores : $CORES")
            + self._echo("Found nodes : $NODES")
            + f"TASKBLOCKS={tasks_per_node}\n"
            + cmd_file_lines(command, script_dir)
            + 'PIDS=""\n'
            + 'if [ "$NODES" -lt "$TASKBLOCKS" ]; then\n'
            + "    CORES_PER_BLOCK=$(( NODES * CORES / TASKBLOCKS ))\n"
            + "    for blk in $(seq 1 1 $TASKBLOCKS); do\n"
            + f'        srun --ntasks $CORES_PER_BLOCK -l {ov} bash "$CMD_FILE" &\n'
            + '        PIDS="$PIDS $!"\n'
            + "    done\n"
            + "else\n"
            + "    NODES_PER_BLOCK=$(( NODES / TASKBLOCKS ))\n"
            + "    for blk in $(seq 1 1 $TASKBLOCKS); do\n"
            + "        srun --exclusive --nodes $NODES_PER_BLOCK -l "
            + f'{ov} bash "$CMD_FILE" &\n'
            + '        PIDS="$PIDS $!"\n'
            + "    done\n"
            + "fi\n"
            # Exit with the first failing srun's code, so a FAILED block says why.
            + "FIRSTCODE=0\n"
            + "for PID in $PIDS; do\n"
            + '    wait $PID; CODE=$?; [ "$FIRSTCODE" = 0 ] && FIRSTCODE=$CODE\n'
            + "done\n"
            + "(exit $FIRSTCODE)\n"
            + self._finish()
        )
