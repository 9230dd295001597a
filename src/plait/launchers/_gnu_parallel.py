"""GnuParallelLauncher: start the copies with GNU parallel across the block's hosts."""

from __future__ import annotations

import shlex

from plait.launchers._base import Launcher, check_counts, cmd_file_lines


class GnuParallelLauncher(Launcher):
    """Runs ``tasks_per_node * nodes_per_block`` copies with GNU ``parallel``.

    Hosts come from ``$PBS_NODEFILE`` (deduplicated); when there is none, the block is this
    host. Unlike Parsl, this host is written as ``:`` (GNU parallel's "run locally"), so a
    single-node block needs no ssh to itself.
    """

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        total = check_counts(self, tasks_per_node, nodes_per_block)
        folder = f"{shlex.quote(script_dir.rstrip('/'))}/" if script_dir else ""
        return (
            "export CORES=$(getconf _NPROCESSORS_ONLN)\n"
            + self._echo("Found cores : $CORES")
            + f"WORKERCOUNT={total}\n"
            + cmd_file_lines(command, script_dir)
            + f'SSHLOGINFILE={folder}"sshlogin_${{JOBNAME:-$$}}"\n'
            + 'if [ -n "${PBS_NODEFILE:-}" ] && [ -f "$PBS_NODEFILE" ]; then\n'
            + '    ME_SHORT=$(hostname -s 2>/dev/null); ME_LONG=$(hostname -f 2>/dev/null)\n'
            + '    sort -u "$PBS_NODEFILE" | awk -v a="$ME_SHORT" -v b="$ME_LONG" '
            + "'{ if ($0 == \"localhost\" || $0 == a || $0 == b) print \":\"; else print }' "
            + '| sort -u > "$SSHLOGINFILE"\n'
            + "else\n"
            + '    echo : > "$SSHLOGINFILE"\n'
            + "fi\n"
            + 'PFILE="$CMD_FILE.parallel"\n'
            + ': > "$PFILE"\n'
            + "for COUNT in $(seq 1 1 $WORKERCOUNT); do\n"
            + '    echo "sh $CMD_FILE" >> "$PFILE"\n'
            + "done\n"
            + self._echo("parallel with $WORKERCOUNT copies, hosts in $SSHLOGINFILE")
            # `--env _` copies the environment to remote hosts but needs `parallel
            # --record-env` first; local copies inherit it anyway.
            + 'ENVOPT=""; if grep -qv "^:$" "$SSHLOGINFILE"; then ENVOPT="--env _"; fi\n'
            + 'parallel --will-cite $ENVOPT --joblog "$CMD_FILE.parallel.log" '
            + f'--sshloginfile "$SSHLOGINFILE" --jobs {tasks_per_node} < "$PFILE"\n'
            + self._finish()
        )
