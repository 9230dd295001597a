"""Slurm launchers: one srun for all copies, or one srun per group of nodes (for MPI apps)."""

from __future__ import annotations

from plait.launchers._base import (
    CopiesLauncher,
    Launcher,
    OverridesLauncher,
    check_counts,
    cmd_file_lines,
)


class SrunLauncher(CopiesLauncher):
    """Runs ``tasks_per_node * nodes_per_block`` copies with one ``srun`` inside a Slurm job."""

    starting = "srun with $WORKERCOUNT tasks"

    def _setup(self, script_dir: str) -> str:
        return slurm_env(self)

    def _start(self, total: int, tasks_per_node: int) -> str:
        return f'srun --ntasks {total} -l {self.overrides} bash "$CMD_FILE"\n'


def slurm_env(launcher: Launcher) -> str:
    """Lines exporting the job's cores per node and node count as CORES and NODES."""
    return ("export CORES=$SLURM_CPUS_ON_NODE\n"
            "export NODES=$SLURM_JOB_NUM_NODES\n"
            + launcher._echo("Found cores : $CORES")
            + launcher._echo("Found nodes : $NODES"))


class SrunMPILauncher(OverridesLauncher):
    """Splits a Slurm job into ``tasks_per_node`` groups, one ``srun`` each.

    Meant for workers that themselves launch MPI applications: each group gets
    ``NODES / tasks_per_node`` whole nodes (``--exclusive``), or, when there are more groups
    than nodes, ``NODES * CORES / tasks_per_node`` cores.
    """

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        check_counts(self, tasks_per_node, nodes_per_block)
        ov = self.overrides
        return (
            slurm_env(self)
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
