"""The Launcher interface and the shell fragments the concrete launchers share."""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod

from plait._errors import ConfigurationError
from plait._validate import check_bool, check_str

# Quoted heredoc delimiter: the command text is written verbatim, with no shell expansion.
_EOF_MARK = "PLAIT_CMD_EOF"


class Launcher(ABC):
    """Wraps a worker command so that a block starts ``tasks_per_node * nodes_per_block`` copies.

    A launcher is called as ``launcher(command, tasks_per_node, nodes_per_block)`` and returns
    the shell text a provider puts into its job script. ``debug=True`` adds echo lines that
    show in the job's stdout.
    """

    def __init__(self, debug: bool = True) -> None:
        check_bool("debug", debug, owner=type(self).__name__)
        self.debug = debug

    @abstractmethod
    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        """Return the shell text that runs ``command`` the right number of times."""

    def _fields(self) -> dict[str, object]:
        return {}

    def __repr__(self) -> str:
        fields = {**self._fields(), "debug": self.debug}
        inner = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        return f"{type(self).__name__}({inner})"

    def _finish(self) -> str:
        """Lines that end the script with the exit code of the command just before them."""
        return "PLAIT_EXIT=$?\n" + self._echo("Done (exit code $PLAIT_EXIT)") + "exit $PLAIT_EXIT\n"

    def _echo(self, text: str) -> str:
        """An echo line when debug is on, else nothing (``text`` may use shell variables)."""
        return f'echo "{text}"\n' if self.debug else ""


class OverridesLauncher(Launcher):
    """A launcher with an ``overrides`` string added to its job-starter line."""

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        super().__init__(debug=debug)
        check_str("overrides", overrides, empty=True, owner=type(self).__name__)
        self.overrides = overrides

    def _fields(self) -> dict[str, object]:
        return {"overrides": self.overrides}


class CopiesLauncher(OverridesLauncher):
    """A launcher that writes the command to ``$CMD_FILE`` and starts all copies with one
    job-starter line (srun, mpiexec, mpirun, aprun, jsrun)."""

    #: what the debug echo says before the copies start
    starting = "starting $WORKERCOUNT copies"

    def _setup(self, script_dir: str) -> str:
        """Lines the job starter needs before the command file (none by default)."""
        return ""

    @abstractmethod
    def _start(self, total: int, tasks_per_node: int) -> str:
        """The line(s) that start ``total`` copies of ``$CMD_FILE``."""

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        total = check_counts(self, tasks_per_node, nodes_per_block)
        return (
            self._setup(script_dir)
            + f"WORKERCOUNT={total}\n"
            + cmd_file_lines(command, script_dir)
            + self._echo(self.starting)
            + self._start(total, tasks_per_node)
            + self._finish()
        )


def check_counts(launcher: Launcher, tasks_per_node: int, nodes_per_block: int) -> int:
    """Validate the counts a provider passes and return the total number of copies."""
    for name, value in (("tasks_per_node", tasks_per_node), ("nodes_per_block", nodes_per_block)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(
                name, value, "an int >= 1", f"{type(launcher).__name__} was called with it")
    return tasks_per_node * nodes_per_block


def cmd_file_lines(command: str, script_dir: str, stem: str = "cmd") -> str:
    """Shell lines that write ``command`` to ``$CMD_FILE`` (in script_dir, or the cwd)."""
    if any(line.strip() == _EOF_MARK for line in command.splitlines()):
        raise ConfigurationError(
            f"the command contains a line {_EOF_MARK!r}, which launchers use as a heredoc "
            "delimiter; change that line of the command")
    folder = f"{shlex.quote(script_dir.rstrip('/'))}/" if script_dir else ""
    return (
        f'CMD_FILE={folder}"{stem}_${{JOBNAME:-$$}}.sh"\n'
        f"cat << '{_EOF_MARK}' > \"$CMD_FILE\"\n"
        f"{command}\n"
        f"{_EOF_MARK}\n"
        'chmod u+x "$CMD_FILE"\n'
    )


def hostfile_lines(script_dir: str) -> str:
    """Shell lines that write the block's distinct hosts to ``$HOSTFILE``.

    The hosts come from ``$PBS_NODEFILE`` when the scheduler gives one, else the block is this
    host alone.
    """
    folder = f"{shlex.quote(script_dir.rstrip('/'))}/" if script_dir else ""
    return (
        f'HOSTFILE={folder}"hostfile_${{JOBNAME:-$$}}"\n'
        'if [ -n "${PBS_NODEFILE:-}" ] && [ -f "$PBS_NODEFILE" ]; then\n'
        '    sort -u "$PBS_NODEFILE" > "$HOSTFILE"\n'
        "else\n"
        '    echo localhost > "$HOSTFILE"\n'
        "fi\n"
    )
