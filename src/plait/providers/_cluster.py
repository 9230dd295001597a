"""ClusterProvider: the shared base of batch-scheduler providers (script + commands + states).

A scheduler subclass gives a script template, the submit/status/cancel commands and a state
table; this base fills the template, writes the script, runs commands through a transport with
a deadline, and answers status() from what ``_status()`` last recorded in ``resources``.
"""

from __future__ import annotations

import os
import re
from abc import abstractmethod
from string import Template

from plait._errors import ConfigurationError
from plait.launchers import Launcher
from plait.providers._base import ExecutionProvider
from plait.providers._errors import SchedulerMissingArgs, ScriptPathError, SubmitException
from plait.providers._jobs import JobState, JobStatus
from plait.transport import CommandTimeout, LocalTransport, Transport

_WALLTIME = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


def walltime_to_seconds(walltime: str) -> int:
    """Parse ``"HH:MM:SS"`` (hours may exceed 24) into seconds.

    Raises:
        ConfigurationError: naming the field and the accepted form.
    """
    match = _WALLTIME.match(walltime) if isinstance(walltime, str) else None
    if match is None:
        raise ConfigurationError("walltime", walltime, 'a string "HH:MM:SS", e.g. "01:30:00"')
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def walltime_to_minutes(walltime: str) -> int:
    """``"HH:MM:SS"`` in whole minutes, rounded up (Slurm and LSF take minutes)."""
    return -(-walltime_to_seconds(walltime) // 60)


def worker_init_lines(worker_init: str) -> str:
    """Shell lines running ``worker_init`` that end the job, with a message, if it fails.

    Parsl runs the worker command even after a failed worker_init; stopping here makes the
    block FAILED with the reason in its stderr instead of workers in the wrong environment.
    """
    if not worker_init.strip():
        return ""
    first = worker_init.strip().splitlines()[0][:80].replace("'", "")
    return (
        f"{worker_init}\n"
        "PLAIT_INIT_EXIT=$?\n"
        'if [ "$PLAIT_INIT_EXIT" -ne 0 ]; then\n'
        f"    echo 'plait: worker_init failed (exit code '$PLAIT_INIT_EXIT'): {first}' >&2\n"
        '    exit "$PLAIT_INIT_EXIT"\n'
        "fi\n"
    )


class ClusterProvider(ExecutionProvider):
    """Base for providers that submit scripts to a batch scheduler through a transport.

    Args:
        label: provider name, used in job names and messages.
        walltime: ``"HH:MM:SS"`` limit of each block.
        launcher: a :class:`~plait.launchers.Launcher` instance (else ``BadLauncher``).
        cmd_timeout: seconds a scheduler command may take before it is killed.
        transport: where the commands run (default: this host).
    """

    def __init__(
        self, label: str, nodes_per_block: int, init_blocks: int, min_blocks: int,
        max_blocks: int, parallelism: float, walltime: str, launcher: Launcher,
        cmd_timeout: float = 10, worker_init: str = "", transport: Transport | None = None,
        status_polling_interval: float = 60.0,
    ) -> None:
        self.walltime = walltime
        self.cmd_timeout = cmd_timeout
        self.transport: Transport = transport or LocalTransport()
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init, launcher=launcher,
            status_polling_interval=status_polling_interval)

    def validate(self) -> None:
        super().validate()
        walltime_to_seconds(self.walltime)
        if not isinstance(self.cmd_timeout, (int, float)) or self.cmd_timeout <= 0:
            raise ConfigurationError("cmd_timeout", self.cmd_timeout, "a number of seconds > 0")

    def execute_wait(self, cmd: str, timeout: float | None = None) -> tuple[int, str, str]:
        """Run a scheduler command through the transport; ``(exit_code, stdout, stderr)``."""
        return self.transport.run(cmd, timeout=timeout or self.cmd_timeout)

    def run_submit(self, job_name: str, cmd: str) -> str:
        """Run the scheduler's submit command; return its stdout.

        Raises:
            SubmitException: the command failed or timed out; carries its output.
        """
        try:
            code, out, err = self.execute_wait(cmd)
        except CommandTimeout as exc:
            raise SubmitException(job_name, str(exc)) from exc
        if code != 0:
            raise SubmitException(job_name, f"{self.label}: `{cmd}` failed", out, err, code)
        return out

    def _write_submit_script(
        self, template: str, script_filename: str, job_name: str, configs: dict[str, object],
    ) -> bool:
        """Fill ``template``'s ``${var}`` placeholders from ``configs`` and write the script.

        Raises:
            SchedulerMissingArgs: a placeholder has no value in ``configs``.
            ScriptPathError: the file could not be written.
        """
        try:
            text = Template(template).substitute(jobname=job_name, **configs)
        except KeyError as exc:
            raise SchedulerMissingArgs([str(exc.args[0])], self.label) from None
        except ValueError as exc:  # a "$" not followed by a valid name
            raise SchedulerMissingArgs([f"(bad placeholder: {exc})"], self.label) from None
        try:
            with open(script_filename, "w") as fh:
                fh.write(text)
            os.chmod(script_filename, 0o755)
        except OSError as exc:
            raise ScriptPathError(script_filename, exc) from exc
        return True

    def script_path(self, job_name: str, suffix: str = ".submit") -> str:
        """``<script_dir>/<job_name><suffix>``; creates script_dir.

        Raises:
            ScriptPathError: script_dir is unset or cannot be created.
        """
        if not self.script_dir:
            raise ScriptPathError(
                f"<unset>/{job_name}{suffix}",
                f"{self.label}: provider.script_dir is not set; the kernel sets it to "
                "<run_dir>/submit_scripts, so set it yourself when using the executor alone")
        try:
            os.makedirs(self.script_dir, exist_ok=True)
        except OSError as exc:
            raise ScriptPathError(self.script_dir, exc) from exc
        return os.path.join(self.script_dir, f"{job_name}{suffix}")

    @abstractmethod
    def _status(self) -> None:
        """Ask the scheduler about the jobs in ``resources`` and record their ``status``."""

    def status(self, job_ids: list[str]) -> list[JobStatus]:
        """Refresh from the scheduler, then report each job (MISSING if never seen)."""
        if any(not self.resources.get(j, {}).get("status", JobStatus(JobState.UNKNOWN)).terminal
               for j in job_ids if j in self.resources):
            self._status()
        out = []
        for job_id in job_ids:
            record = self.resources.get(job_id)
            if record is None:
                out.append(JobStatus(JobState.MISSING,
                                     f"job {job_id} was not submitted by {self.label}"))
            else:
                out.append(record["status"])
        return out
