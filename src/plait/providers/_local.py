"""LocalProvider: each block is a bash script run as its own session on this host.

    LocalProvider ──Popen(start_new_session)──▶ wrapper bash (pid = job id = session id)
                                                  └─ [timeout W] bash <job>.sh  > .stdout 2> .stderr
                                                       └─ worker_init; launcher → worker copies
    wrapper writes the script's exit code to <job>.sh.ec when the script ends.

status() is exact and cheap: Popen.poll() (a non-blocking waitpid) and, once the wrapper has
exited, the .ec file. cancel() stops the whole session: SIGTERM, a short grace, SIGKILL.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

from plait._errors import PlaitError, describe_exit
from plait._validate import check_number
from plait.launchers import Launcher, SingleNodeLauncher
from plait.providers._base import ExecutionProvider
from plait.providers._cluster import walltime_to_seconds, worker_init_lines
from plait.providers._errors import ScriptPathError, SubmitException
from plait.providers._jobs import JobState, JobStatus
from plait.providers._procs import stop_session

log = logging.getLogger(__name__)

# coreutils `timeout` exits 124 when it stopped the command at the deadline (137 if it then
# had to SIGKILL it).
_TIMEOUT_CODES = (124, 137)
_TAIL_CHARS = 600


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether a block's wrapper has exited, without reaping it (see ``_LocalJob.lock``)."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid,
                         os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped already
        return True


@dataclass(slots=True)
class _LocalJob:
    job_id: str
    name: str
    script: str
    proc: subprocess.Popen[bytes]
    started: float
    walltime: int | None
    cancelled: bool = False
    final: JobStatus | None = None
    # Held while the block's session is signalled or its wrapper reaped. Until reaped, the
    # wrapper (running or a zombie) keeps its pid, the session's id, from going to another
    # process: signalling "session <pid>" after that could hit a stranger's daemon.
    lock: threading.Lock = field(default_factory=threading.Lock)
    survivors: list[psutil.Process] = field(default_factory=list)  # outlived SIGKILL


class LocalProvider(ExecutionProvider):
    """Runs blocks as local process groups (Parsl's ``LocalProvider``).

    Args:
        nodes_per_block: must stay 1 in practice: every "node" is this host.
        launcher: wraps the worker command (default ``SingleNodeLauncher()``).
        init_blocks, min_blocks, max_blocks, parallelism: block counts for scaling.
        worker_init: shell lines run before the workers; a non-zero exit of its last command
            ends the block as FAILED with the reason in its stderr (Parsl carries on).
        walltime: ``"HH:MM:SS"`` after which a block is stopped and reported as TIMEOUT, or
            None (the default) for no limit. Parsl's default of 15 minutes is not enforced
            by Parsl; plait enforces a walltime only when one is given, so that migrated
            scripts do not lose their local workers mid-run.
        cmd_timeout: accepted for compatibility (local submission runs no scheduler command).
        cancel_grace: seconds between SIGTERM and SIGKILL when a block is cancelled.
    """

    is_local = True  # every block is a process group on this host

    def __init__(
        self, nodes_per_block: int = 1, launcher: Launcher | None = None, init_blocks: int = 1,
        min_blocks: int = 0, max_blocks: int = 1, worker_init: str = "",
        cmd_timeout: float = 30, parallelism: float = 1, walltime: str | None = None,
        cancel_grace: float = 2.0, label: str = "local",
    ) -> None:
        self.walltime = walltime
        self.cmd_timeout, self.cancel_grace = cmd_timeout, cancel_grace
        check_number("cmd_timeout", cmd_timeout, low=0, strict=True, owner="LocalProvider",
                     kind="a number of seconds")
        check_number("cancel_grace", cancel_grace, low=0, owner="LocalProvider",
                     kind="a number of seconds")
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks, max_blocks=max_blocks,
            nodes_per_block=nodes_per_block, parallelism=parallelism, worker_init=worker_init,
            launcher=SingleNodeLauncher() if launcher is None else launcher,
            status_polling_interval=5.0)
        self._walltime_s = None if walltime is None else walltime_to_seconds(walltime)
        self._jobs: dict[str, _LocalJob] = {}
        self._lock = threading.Lock()

    def job_script(self, command: str, tasks_per_node: int, job_name: str) -> str:
        """The text of the script a block with this command would run (for debugging)."""
        assert self.launcher is not None
        wrapped = self.launcher(command, tasks_per_node, self.nodes_per_block,
                                self.script_dir or "")
        return (f"#!/bin/bash\n{worker_init_lines(self.worker_init)}"
                f"export JOBNAME={shlex.quote(job_name)}\n{wrapped}\n")

    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        """Write ``<script_dir>/<job_name>.<time>.sh`` and start it; return its pid as job id.

        Raises:
            SubmitException: the script could not be written or started.
        """
        job_name = f"{job_name}.{time.time()}"
        try:
            script = self._write_script(command, tasks_per_node, job_name)
            proc = subprocess.Popen(
                ["bash", "-c", self._wrapper(), job_name, script],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)  # runs in our cwd, as in Parsl: relative paths work
        except (PlaitError, OSError) as exc:
            raise SubmitException(job_name, str(exc)) from exc
        job_id = str(proc.pid)
        with self._lock:
            self._jobs[job_id] = _LocalJob(job_id, job_name, script, proc, time.monotonic(),
                                           self._walltime_s)
            self.resources[job_id] = {"job_id": job_id, "job_name": job_name,
                                      "script": script, "status": JobStatus(JobState.RUNNING)}
        log.debug("%s: started block %s as pid %s", self.label, job_name, job_id)
        return job_id

    def _write_script(self, command: str, tasks_per_node: int, job_name: str) -> str:
        if not self.script_dir:
            raise ScriptPathError(
                f"<unset>/{job_name}.sh",
                f"{self.label}: provider.script_dir is not set; the kernel sets it to "
                "<run_dir>/submit_scripts, so set it yourself when using the executor alone")
        path = os.path.join(self.script_dir, f"{job_name}.sh")
        try:
            os.makedirs(self.script_dir, exist_ok=True)
            with open(path, "w") as fh:
                fh.write(self.job_script(command, tasks_per_node, job_name))
        except OSError as exc:
            raise ScriptPathError(path, exc) from exc
        return path

    def _wrapper(self) -> str:
        # $0 is the job name (for ps), $1 the script. The .ec file appears atomically.
        run = 'bash "$1" > "$1.stdout" 2> "$1.stderr"'
        if self._walltime_s is not None:
            grace = max(1, round(self.cancel_grace))
            run = f"timeout -k {grace} -s TERM {self._walltime_s} {run}"
        return f'{run}\necho $? > "$1.ec.tmp" && mv "$1.ec.tmp" "$1.ec"\n'

    def status(self, job_ids: list[str]) -> list[JobStatus]:
        """Each job's state: RUNNING while its wrapper lives, then how it ended."""
        out = []
        for job_id in job_ids:
            with self._lock:
                job = self._jobs.get(job_id)
            if job is None:
                out.append(JobStatus(JobState.MISSING,
                                     f"job {job_id} was not submitted by this {self.label}"))
            else:
                out.append(self._status_of(job))
        return out

    def _status_of(self, job: _LocalJob) -> JobStatus:
        if job.final is not None:
            return job.final
        with job.lock:
            if job.final is not None:
                return job.final
            if not _has_exited(job.proc):
                return JobStatus(JobState.RUNNING)
            # Ended: stop what the block left in its session while the unreaped wrapper still
            # holds the session id, then reap the wrapper and record how the block ended.
            left = stop_session(job.proc.pid, grace=0.5)
            if left:
                log.error("%s: block %s left processes that survived SIGKILL: %s",
                          self.label, job.name, [p.pid for p in left])
            job.survivors = left
            final = self._ended(job, job.proc.wait())
            with self._lock:
                self.resources[job.job_id]["status"] = final
            job.final = final
            return final

    def _ended(self, job: _LocalJob, wrapper_code: int) -> JobStatus:
        out, err = f"{job.script}.stdout", f"{job.script}.stderr"
        ec = _read_exit_code(f"{job.script}.ec")
        if job.cancelled:
            return JobStatus(JobState.CANCELLED, f"block {job.name} was cancelled", ec, out, err)
        if ec is None:
            return JobStatus(
                JobState.FAILED,
                f"block {job.name} (pid {job.job_id}): its wrapper "
                f"{describe_exit(wrapper_code)} before the script finished; something outside "
                "plait killed it", wrapper_code, out, err)
        if ec == 0:
            return JobStatus(JobState.COMPLETED, None, 0, out, err)
        ran = _age_of(f"{job.script}.ec") - _age_of(job.script)
        if job.walltime is not None and ec in _TIMEOUT_CODES and ran >= job.walltime - 1:
            return JobStatus(JobState.TIMEOUT,
                             f"block {job.name} reached its walltime {self.walltime} and was "
                             "stopped", ec, out, err)
        tail = _tail(err)
        return JobStatus(
            JobState.FAILED,
            f"block {job.name} (pid {job.job_id}) {_describe_code(ec)}; stderr in {err}"
            + (f", ending: {tail}" if tail else " (empty)"), ec, out, err)

    def cancel(self, job_ids: list[str]) -> list[bool]:
        """Stop each block's whole session (SIGTERM, then SIGKILL after the grace)."""
        results = []
        for job_id in job_ids:
            with self._lock:
                job = self._jobs.get(job_id)
            if job is None:
                results.append(False)
                continue
            with job.lock:
                if job.final is None:  # not reaped yet: its session id is still the block's
                    if not _has_exited(job.proc):  # one that ended keeps its own outcome
                        job.cancelled = True
                    left = stop_session(job.proc.pid, grace=self.cancel_grace)
                    if left:
                        log.error("%s: block %s: processes survived SIGKILL: %s",
                                  self.label, job.name, [p.pid for p in left])
            self._status_of(job)  # reaps the wrapper (killed above) and records the end
            results.append(True)
        return results

    def live_jobs(self) -> list[str]:
        """Job ids whose processes may still exist (not yet seen to end)."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [j.job_id for j in jobs if self._status_of(j).state is JobState.RUNNING
                or any(p.is_running() for p in j.survivors)]

    def __repr__(self) -> str:
        return (f"LocalProvider(nodes_per_block={self.nodes_per_block}, "
                f"launcher={self.launcher!r}, init_blocks={self.init_blocks}, "
                f"min_blocks={self.min_blocks}, max_blocks={self.max_blocks}, "
                f"worker_init={self.worker_init!r}, walltime={self.walltime!r}, "
                f"parallelism={self.parallelism})")


def _read_exit_code(path: str) -> int | None:
    try:
        with open(path) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def _age_of(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - _TAIL_CHARS))
            return fh.read().decode(errors="replace").strip()
    except OSError:
        return ""


def _describe_code(code: int) -> str:
    # bash reports a child killed by signal N as 128+N.
    if code > 128:
        return describe_exit(128 - code)
    return describe_exit(code)
