"""ClusterProvider: the shared base of batch-scheduler providers (script + commands + states).

    submit(): job_script() ─▶ <script_dir>/<job>.submit ─▶ [transport: push] ─▶ submit command
              ─▶ job id ─▶ resources + journal (plait-jobs.jsonl)
    status(): at most one status command per status_min_interval, for every live job at once
              ─▶ scheduler state ─▶ JobState (unknown names: UNKNOWN, never "ended")
    cancel(): one cancel command for all ids ─▶ one status command to confirm ─▶ journal "gone"

A scheduler subclass gives a script template, its commands and the parsers of their output;
this base fills the template, runs the commands through a transport (this host, or a login
node over SSH) with a deadline, throttles them, and tracks every job until the scheduler
reports it ended (see ``_journal.py``).
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import threading
import time
from collections.abc import Mapping
from string import Template
from typing import Any, ClassVar, Literal

from plait._errors import ConfigurationError
from plait._validate import check_bool, check_int, check_methods, check_number, check_str
from plait.launchers import Launcher, SingleNodeLauncher
from plait.providers._base import ExecutionProvider
from plait.providers._errors import SchedulerMissingArgs, ScriptPathError, SubmitException
from plait.providers._jobs import JobState, JobStatus
from plait.providers._journal import JobJournal, open_journal
from plait.transport import LocalTransport, Transport, TransportError

log = logging.getLogger(__name__)

#: why a block's job ended under its workers, as the executor reports it to tasks
LossCause = Literal["walltime", "node_failure", "cancelled", "ended"]
# Seconds between submissions retried because the scheduler was unreachable.
_SUBMIT_RETRY_DELAYS = (2.0, 4.0, 8.0)
_CAUSE_BY_STATE: dict[JobState, LossCause] = {
    JobState.TIMEOUT: "walltime", JobState.CANCELLED: "cancelled"}

#: the end of every submit script: worker_init, the job name, the launcher's command
SCRIPT_BODY = """${worker_init}
export JOBNAME="${jobname}"

${user_script}
"""

#: what job_script() shows in place of the executor's worker command when none is given
PLACEHOLDER_COMMAND = "plait-worker-pool ...  # the executor's worker command goes here"

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



def _write_script(path: str, text: str) -> None:
    """Write an executable script; ScriptPathError if it cannot be."""
    try:
        with open(path, "w") as fh:
            fh.write(text)
        os.chmod(path, 0o755)
    except OSError as exc:
        raise ScriptPathError(path, exc) from exc


class ClusterProvider(ExecutionProvider):
    """Base for providers that submit scripts to a batch scheduler through a transport.

    Args:
        label: provider name, used in job names and messages.
        walltime: ``"HH:MM:SS"`` limit of each block.
        launcher: a :class:`~plait.launchers.Launcher` instance (else ``BadLauncher``);
            None: ``SingleNodeLauncher()``.
        cmd_timeout: seconds a scheduler command may take before it is killed.
        worker_init: shell lines run in the job before the workers start.
        scheduler_options: extra lines for the script's directive header.
        transport: where the scheduler's commands run (default: this host); an
            :class:`~plait.transport.SSHTransport` submits from a login node.
        status_min_interval: plait addition: the fewest seconds between two status commands,
            however often status() is called (the scheduler is shared).
        submit_min_interval: plait addition: the fewest seconds between two submissions.
        drain_margin: plait addition: seconds before the walltime at which a block takes no
            new task (None: 10% of the walltime, at least 10 s and at most 10 minutes).

    A subclass sets ``template``, ``states`` and ``scheduler``, and implements
    ``_submit_command``, ``_job_id_from``, ``_status_command``, ``_parse_status`` and
    ``_cancel_command`` (and may override ``_template_values`` and ``_missing_status``).
    """

    #: the scheduler's name, for messages
    scheduler: ClassVar[str] = "batch scheduler"
    #: the submit script (``string.Template``: ``${name}`` placeholders)
    template: ClassVar[str] = ""
    #: suffix of the submit script's file name
    script_suffix: ClassVar[str] = ".submit"
    #: the scheduler's state names -> plait's job states (others are UNKNOWN)
    states: ClassVar[Mapping[str, JobState]] = {}
    #: texts of the submit command's stderr that mean "the scheduler is unreachable now"
    #: (submission is tried again) rather than "the job is refused"
    transient_errors: ClassVar[tuple[str, ...]] = ()
    #: the scheduler's state names that say why a job ended under its workers (LossCause)
    loss_causes: ClassVar[Mapping[str, LossCause]] = {}
    #: the subclass's own settings that ``validate`` checks: strings (or None), whole
    #: numbers >= 1 (or None), and True/False
    text_fields: ClassVar[tuple[str, ...]] = ()
    count_fields: ClassVar[tuple[str, ...]] = ()
    flag_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, label: str, nodes_per_block: int, init_blocks: int, min_blocks: int,
        max_blocks: int, parallelism: float, walltime: str, launcher: Launcher | None,
        cmd_timeout: float = 10, worker_init: str = "", transport: Transport | None = None,
        status_polling_interval: float = 60.0, scheduler_options: str = "",
        status_min_interval: float = 1.0, submit_min_interval: float = 0.2,
        drain_margin: float | None = None,
    ) -> None:
        self.walltime = walltime
        self.cmd_timeout = cmd_timeout
        self.scheduler_options = scheduler_options
        self.transport: Transport = LocalTransport() if transport is None else transport
        self.status_min_interval, self.submit_min_interval = (status_min_interval,
                                                              submit_min_interval)
        self.drain_margin = drain_margin
        self._poll_lock = threading.Lock()      # one status command at a time
        self._submit_lock = threading.Lock()    # spaces submissions
        self._polled_at = self._submitted_at = -1e9
        self._journal: JobJournal | None = None
        self._cancelled: dict[str, float] = {}  # job id -> when plait asked to cancel it
        self._warned_states: set[tuple[str, str]] = set()
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init,
            launcher=SingleNodeLauncher() if launcher is None else launcher,
            status_polling_interval=status_polling_interval)

    @classmethod
    def for_cleanup(cls, transport: Transport, **kwargs: Any) -> ClusterProvider:
        """A provider that can query and cancel jobs a dead run left (``plait cleanup``)."""
        prov = cls(transport=transport, **kwargs)
        prov.status_min_interval = 0
        return prov

    def cleanup_kwargs(self) -> dict[str, Any]:
        """Constructor arguments that status and cancel commands depend on (for the journal)."""
        return {}

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        walltime_to_seconds(self.walltime)
        seconds = "a number of seconds"
        check_number("cmd_timeout", self.cmd_timeout, low=0, strict=True, owner=name,
                     kind=seconds)
        check_number("drain_margin", self.drain_margin, low=0, none=True, owner=name,
                     kind=seconds)
        for field in ("status_min_interval", "submit_min_interval"):
            check_number(field, getattr(self, field), low=0, owner=name, kind=seconds)
        check_str("scheduler_options", self.scheduler_options, empty=True, owner=name)
        check_methods("transport", self.transport, ("run", "push_file"),
                      "a plait.transport Transport (LocalTransport, SSHTransport)", owner=name)
        for field in self.text_fields:
            check_str(field, getattr(self, field), empty=True, none=True, owner=name)
        for field in self.count_fields:
            check_int(field, getattr(self, field), low=1, none=True, owner=name)
        for field in self.flag_fields:
            check_bool(field, getattr(self, field), owner=name)

    @property
    def drain_after(self) -> float:
        """Seconds after a block starts at which it should take no new task."""
        wall = walltime_to_seconds(self.walltime)
        margin = self.drain_margin
        if margin is None:
            margin = min(max(wall * 0.1, 10.0), 600.0)
        return max(wall - margin, 0.0)

    # -- commands --------------------------------------------------------------------------
    def execute_wait(self, cmd: str, timeout: float | None = None) -> tuple[int, str, str]:
        """Run a scheduler command through the transport; ``(exit_code, stdout, stderr)``."""
        return self.transport.run(cmd, timeout=timeout or self.cmd_timeout)

    def run_submit(self, job_name: str, cmd: str) -> str:
        """Run the scheduler's submit command; return its stdout.

        Raises:
            SubmitException: the command failed or timed out; carries its output.
        """
        for delay in (*_SUBMIT_RETRY_DELAYS, None):
            try:
                code, out, err = self.execute_wait(cmd)
            except TransportError as exc:
                raise SubmitException(job_name, str(exc)) from exc
            if code == 0:
                return out
            # The controller restarting or overloaded is not a refusal: ask again, a few times.
            if delay is None or not any(m in err for m in self.transient_errors):
                break
            log.warning("%s: %s could not be reached (%s); submitting again in %g s",
                        self.label, self.scheduler, err.strip()[-200:], delay)
            time.sleep(delay)
        raise SubmitException(job_name, f"{self.label}: `{cmd}` failed", out, err, code)

    # -- the script ------------------------------------------------------------------------
    def _write_submit_script(
        self, template: str, script_filename: str, job_name: str, configs: dict[str, object],
    ) -> bool:
        """Fill ``template``'s ``${var}`` placeholders from ``configs`` and write the script.

        Raises:
            SchedulerMissingArgs: a placeholder has no value in ``configs``.
            ScriptPathError: the file could not be written.
        """
        _write_script(script_filename, self._fill(template, job_name, configs))
        return True

    def _fill(self, template: str, job_name: str, configs: dict[str, object]) -> str:
        try:
            return Template(template).substitute(jobname=job_name, **configs)
        except KeyError as exc:
            raise SchedulerMissingArgs([str(exc.args[0])], self.label) from None
        except ValueError as exc:  # a "$" not followed by a valid name
            raise SchedulerMissingArgs([f"(bad placeholder: {exc})"], self.label) from None

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

    def _remote_path(self, local_path: str) -> str:
        """Where the scheduler sees a file of script_dir (the same path unless pushed)."""
        remote_dir = getattr(self.transport, "script_dir", None)
        if not remote_dir or not getattr(self.transport, "is_remote", False):
            return local_path
        return os.path.join(remote_dir, os.path.basename(local_path))

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        """Scheduler-specific template values (the base gives the common ones)."""
        return {}

    def job_script(
        self, command: str | None = None, tasks_per_node: int = 1,
        job_name: str = "plait.preview",
    ) -> str:
        """The text of the script a block running ``command`` would be submitted as.

        Nothing is submitted or written. Without ``command``, a placeholder stands for the
        executor's worker command. This is what ``submit()`` writes to the run directory.
        """
        assert self.launcher is not None
        path = self._remote_path(os.path.join(self.script_dir or ".",
                                              f"{job_name}{self.script_suffix}"))
        values: dict[str, object] = {
            "nodes": self.nodes_per_block, "walltime": self.walltime,
            "scheduler_options": self.scheduler_options,
            "worker_init": worker_init_lines(self.worker_init),
            "user_script": self.launcher(command or PLACEHOLDER_COMMAND, tasks_per_node,
                                         self.nodes_per_block,
                                         os.path.dirname(path)),
            "submit_script_dir": os.path.dirname(path),
            "stdout": f"{path}.stdout", "stderr": f"{path}.stderr",
            "tasks_per_node": tasks_per_node,
        }
        values.update(self._template_values(tasks_per_node, job_name, path))
        return self._fill(self.template, job_name, values)

    # -- submit ----------------------------------------------------------------------------
    def _submit_command(self, script_path: str) -> str:
        raise NotImplementedError

    def _job_id_from(self, stdout: str) -> str | None:
        raise NotImplementedError

    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        """Write the block's script to script_dir, submit it, and return the job id.

        Raises:
            SubmitException: the scheduler refused the job; carries its own message.
            ScriptPathError / SchedulerMissingArgs: the script could not be made.
        """
        job_name = f"{job_name}.{time.time()}"
        path = self.script_path(job_name, self.script_suffix)
        files = {path: self.job_script(command, tasks_per_node, job_name),
                 **self._extra_files(command, tasks_per_node, job_name, path)}
        for name, text in files.items():
            _write_script(name, text)
        remote = self._remote_path(path)
        if remote != path:
            for name in files:
                try:
                    self.transport.push_file(name, os.path.dirname(remote))
                except Exception as exc:
                    raise SubmitException(job_name, f"copying {name} to "
                                          f"{self.transport.hostname} failed: {exc}") from exc
        self._space_submissions()
        cmd = self._submit_command(remote)
        out = self.run_submit(job_name, cmd)
        job_id = self._job_id_from(out)
        if not job_id:
            raise SubmitException(job_name, f"{self.label}: no job id in the output of `{cmd}`",
                                  out)
        self._track(job_id, job_name, remote)
        log.debug("%s: submitted %s as job %s", self.label, job_name, job_id)
        return job_id

    def _extra_files(
        self, command: str, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, str]:
        """Other files the job needs next to its script (path -> text); none by default."""
        return {}

    def _space_submissions(self) -> None:
        # A burst of scale-out spreads over submit_min_interval per job (sites ask for it).
        with self._submit_lock:
            wait = self._submitted_at + self.submit_min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._submitted_at = time.monotonic()

    def _track(self, job_id: str, job_name: str, script: str) -> None:
        self.resources[job_id] = {
            "job_id": job_id, "job_name": job_name, "script": script,
            "status": JobStatus(JobState.PENDING, None, None, f"{script}.stdout",
                                f"{script}.stderr")}
        journal = self._open_journal()
        if journal is not None:
            journal.submitted(job_id, job_name, script, self.description())

    def description(self) -> dict[str, Any]:
        """How ``plait cleanup`` rebuilds this provider to cancel its jobs."""
        cls = type(self)
        return {"class": f"{cls.__module__}:{cls.__qualname__}", "label": self.label,
                "kwargs": self.cleanup_kwargs(), "transport": self.transport.describe()}

    def _open_journal(self) -> JobJournal | None:
        if self._journal is None and self.script_dir:
            self._journal = open_journal(self.script_dir, self.label)
        return self._journal

    # -- status ----------------------------------------------------------------------------
    def _status_command(self, job_ids: list[str]) -> str:
        raise NotImplementedError

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        """Job id -> (the scheduler's state name, a detail) from the status command's output.

        Raises:
            SchedulerError: the command failed (the states are kept as they were).
        """
        raise NotImplementedError

    def _missing_status(self, job_id: str) -> JobStatus:
        """The status of a tracked job the scheduler no longer lists: it ended."""
        return JobStatus(JobState.COMPLETED, f"job {job_id} is no longer listed by "
                         f"{self.scheduler}")

    def status(self, job_ids: list[str]) -> list[JobStatus]:
        """Each job's latest state; asks the scheduler (once, for all live jobs) when due."""
        self.refresh()
        out = []
        for job_id in job_ids:
            record = self.resources.get(job_id)
            if record is None:
                out.append(JobStatus(JobState.MISSING,
                                     f"job {job_id} was not submitted by {self.label}"))
            else:
                out.append(record["status"])
        return out

    def refresh(self, force: bool = False) -> None:
        """Ask the scheduler about every live job, unless it was asked within
        ``status_min_interval`` (``force``: unless within a quarter of it)."""
        with self._poll_lock:
            floor = self.status_min_interval / 4 if force else self.status_min_interval
            if time.monotonic() - self._polled_at < floor:
                return
            if any(not r["status"].terminal for r in list(self.resources.values())):
                self._status()
            self._polled_at = time.monotonic()

    def _status(self) -> None:
        """Query the scheduler about the live jobs in ``resources`` and record their status."""
        live = [j for j, r in list(self.resources.items()) if not r["status"].terminal]
        size = int(getattr(self, "status_batch_size", 0) or 0) or len(live)
        for start in range(0, len(live), size):
            chunk = live[start:start + size]
            cmd = self._status_command(chunk)
            try:
                code, out, err = self.execute_wait(cmd)
                found = self._parse_status(code, out, err)
            except (TransportError, SchedulerError) as exc:
                log.warning("%s: asking %s about jobs failed (%s); keeping their last known "
                            "states", self.label, self.scheduler, exc)
                continue
            for job_id in chunk:
                if job_id in found:
                    native, detail = found[job_id]
                    self._record(job_id, self._to_status(job_id, native, detail))
                else:
                    self._record(job_id, self._missing_status(job_id))

    def _to_status(self, job_id: str, native: str, detail: str) -> JobStatus:
        state = self.states.get(native)
        if state is None:
            # Never "ended": an unparsed state must not let scaling go past max_blocks.
            if (job_id, native) not in self._warned_states:
                self._warned_states.add((job_id, native))
                log.warning("%s: %s reported state %r for job %s, which plait does not know; "
                            "it counts as still there", self.label, self.scheduler, native,
                            job_id)
            state = JobState.UNKNOWN
        message = f"job {job_id} is {native} in {self.scheduler}" + (
            f" ({detail})" if detail else "")
        record = self.resources[job_id]
        record["native_state"] = native
        return JobStatus(state, message, None, f"{record['script']}.stdout",
                         f"{record['script']}.stderr")

    def _record(self, job_id: str, status: JobStatus) -> None:
        record = self.resources[job_id]
        was = record["status"]
        record["status"] = status
        if status.terminal and not was.terminal and self._journal is not None:
            self._journal.gone(job_id, status.state.name)

    # -- cancel ----------------------------------------------------------------------------
    def _cancel_command(self, job_ids: list[str]) -> str:
        raise NotImplementedError

    def cancel(self, job_ids: list[str]) -> list[bool]:
        """Cancel the jobs with one command, then ask the scheduler once to confirm."""
        live = [j for j in job_ids if j in self.resources
                and not self.resources[j]["status"].terminal]
        if not live:
            return [j in self.resources for j in job_ids]
        try:
            code, _out, err = self.execute_wait(self._cancel_command(live))
        except TransportError as exc:
            log.error("%s: cancelling jobs %s timed out: %s", self.label, live, exc)
            return [False] * len(job_ids)
        if code != 0:
            log.warning("%s: cancelling jobs %s: exit code %d: %s", self.label, live, code,
                        err.strip()[-500:])
        now = time.monotonic()
        for job_id in live:
            self._cancelled.setdefault(job_id, now)
        self.refresh(force=True)
        return [j in self.resources and (code == 0 or self.resources[j]["status"].terminal)
                for j in job_ids]

    def cancelled_by_plait(self, job_id: str, before: float | None = None) -> bool:
        """True if this provider asked the scheduler to cancel the job (before ``before``,
        a ``time.monotonic()`` reading, if given)."""
        asked = self._cancelled.get(job_id)
        return asked is not None and (before is None or asked <= before)

    def explain_loss(self, job_id: str, lost_at: float | None = None,
                     ) -> tuple[LossCause, str] | None:
        """Why a job's workers were lost (at ``lost_at``), once the scheduler says it ended.

        Asks the scheduler now (a forced, still throttled, status command). Returns None
        while the job has not ended (or the scheduler cannot be asked); else the cause and
        the scheduler's own words ("job 12 is TIMEOUT in slurm (TimeLimit)"). A cancel that
        plait sent after the loss (to make sure the job is gone) does not count as the cause.
        """
        record = self.resources.get(job_id)
        if record is None:
            return None
        if not record["status"].terminal:
            self.refresh(force=True)
        status = record["status"]
        if not status.terminal:
            return None
        native = str(record.get("native_state", status.state.name))
        cause = self.loss_causes.get(native) or _CAUSE_BY_STATE.get(status.state, "ended")
        if cause == "cancelled" and self.cancelled_by_plait(job_id, before=lost_at):
            cause = "ended"
        return cause, status.message or f"job {job_id} is {native}"

    def confirm_gone(self, job_ids: list[str], timeout: float = 5.0) -> list[str]:
        """Ask the scheduler until the jobs have ended (a cancelled job is COMPLETING for a
        moment), for at most ``timeout`` seconds; return the ids still there."""
        deadline = time.monotonic() + timeout
        while True:
            left = [j for j in job_ids
                    if j in self.resources and not self.resources[j]["status"].terminal]
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(max(self.status_min_interval / 4, 0.2))
            self.refresh(force=True)

    def close(self) -> None:
        """Wait (5 s at most) for the scheduler to confirm that the jobs plait cancelled have
        ended, so the journal marks them gone; then release the transport's connections."""
        left = self.confirm_gone(list(self._cancelled))
        if left:
            log.warning("%s: %s still lists job(s) %s after they were cancelled; `plait "
                        "cleanup` (or the next run) checks them again", self.label,
                        self.scheduler, ", ".join(left))
        self.transport.close()

    def _quote(self, value: str) -> str:
        return shlex.quote(value)


class SchedulerError(Exception):
    """A status command failed; its message is the scheduler's (internal, never raised out)."""
