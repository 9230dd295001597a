"""Direct jobs, the task side: run the job a ``DirectTool`` built (see ``_direct``).

    run_direct(spec): two directories made (or one reused), one process, its stderr kept
    only if it writes any; outputs globbed and checksummed here as cwltool does, or handed
    to cwltool's own collection when the plan says so.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import select
import stat
import subprocess
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any, cast

from plait.cwl._direct import JobSpec, _ignore, _required_environment
from plait.cwl._errors import CWLStepFailed
from plait.cwl._jobs import JobSettings, _safe, _status_reason, _tail, escaping_output

_GENERATION = "http://commonwl.org/cwltool#generation"
_logger = logging.getLogger("cwltool")  # cwltool's own logger: the same lines as its runner


def job_environment(spec: JobSpec, runtime: Mapping[str, Any], tmpdir: str) -> dict[str, str]:
    """The job's environment as cwltool's runner makes it, from this process's variables:
    preserved ones, then EnvVarRequirement's, then HOME, TMPDIR and PATH."""
    env: dict[str, str] = {}
    if runtime.get("preserve_entire_environment"):
        env.update(os.environ)
    else:
        for name in runtime.get("preserve_environment") or ():
            if name in os.environ:
                env[name] = os.environ[name]
            else:
                _logger.warning("Attempting to preserve environment variable %r which is "
                                "not present", name)
    env.update(spec.environment)
    env.update(_required_environment(spec.outdir, tmpdir))
    return env


def run_direct(tool: Any, job_order: dict[str, Any], settings: JobSettings, spec: JobSpec,
               toplevel: bool = False) -> dict[str, Any]:
    """Run the job ``spec`` describes; return its CWL output object.

    Raises:
        CWLStepFailed: the command could not start, exited with a failure code, or its
            outputs could not be collected (naming its command, exit code and log files).
    """
    logs = _Logs(tool.name, settings.log_dir, spec)
    rm_tmpdir = settings.runtime.get("rm_tmpdir", True) is not False
    reuse = spec.any_tmpdir and rm_tmpdir
    _fresh_directory(spec.outdir)
    if reuse:
        tmpdir = _TEMPORARY.take(os.path.dirname(spec.tmpdir))
    else:
        tmpdir = spec.tmpdir
        _fresh_directory(tmpdir)
    try:
        rcode = _execute(spec, job_environment(spec, settings.runtime, tmpdir), logs)
        status = _status(spec, rcode)
        if status != "success":
            _logger.warning("[job %s] exited with status: %d", spec.name, rcode)
            raise logs.failure(_status_reason(status, rcode), rcode)
        outputs = collect(spec) if spec.outputs is not None else None
        if outputs is None:
            outputs = _collect_with_cwltool(tool, job_order, settings, spec, tmpdir, rcode,
                                            toplevel, logs)
        _logger.info("[job %s] completed success", spec.name)
        return outputs
    finally:
        logs.close()
        if reuse:
            _TEMPORARY.give_back(os.path.dirname(spec.tmpdir), tmpdir)
        elif rm_tmpdir:
            _remove(tmpdir)


class _TemporaryDirs:
    """Per thread: an empty temporary directory kept from one direct job for the next.

    Making and removing a directory costs about as much as starting a short command, so a
    job whose tool never names its temporary directory gets one that an earlier job of this
    thread left empty (a job that leaves files behind has its directory removed, and the
    next one gets a new directory). They live in the run's temporary directory, which is
    removed with the run.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def take(self, parent: str) -> str:
        kept: tuple[str, str] | None = getattr(self._local, "kept", None)
        self._local.kept = None
        if kept is not None and kept[0] == parent:
            return kept[1]
        return tempfile.mkdtemp(prefix="reused-", dir=parent)

    def give_back(self, parent: str, path: str) -> None:
        """Keep ``path`` for this thread's next job if the job left it empty (one directory
        per thread: the last run's, which that run removes with its temporary directory)."""
        try:
            with os.scandir(path) as entries:
                empty = next(entries, None) is None
        except OSError:
            return
        if empty:
            self._local.kept = (parent, path)
        else:
            _remove(path)


_TEMPORARY = _TemporaryDirs()


def _fresh_directory(path: str) -> None:
    """Make ``path``; an existing one is an earlier attempt of this job: start it afresh."""
    try:
        os.mkdir(path)
    except FileExistsError:
        import shutil

        shutil.rmtree(path)
        os.mkdir(path)


def _remove(path: str) -> None:
    try:
        os.rmdir(path)  # the usual case: the tool left its temporary directory empty
    except FileNotFoundError:
        pass
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def _status(spec: JobSpec, rcode: int) -> str:
    """cwltool's reading of an exit code (``JobBase._execute``)."""
    if rcode in spec.success_codes:
        return "success"
    if rcode in spec.temporary_fail_codes:
        return "temporaryFail"
    if rcode in spec.permanent_fail_codes:
        return "permanentFail"
    return "success" if rcode == 0 else "permanentFail"


def _execute(spec: JobSpec, env: dict[str, str], logs: _Logs) -> int:
    """Start the command, wait for it (and its time limit), keep its log streams."""
    import shlex

    if not spec.command:
        raise logs.failure("Cannot run a CommandLineTool that produces an empty command "
                           "line. Specify a 'baseCommand', 'arguments', and/or an input "
                           "with an 'inputBinding' so there is a program to execute.")
    _logger.info("[job %s] %s$ %s%s%s", spec.name, spec.outdir, shlex.join(spec.command),
                 f" > {os.path.join(spec.outdir, spec.stdout)}" if spec.stdout else "",
                 f" 2> {os.path.join(spec.outdir, spec.stderr)}" if spec.stderr else "")
    streams: dict[str, Any] = {}
    for name in ("stdout", "stderr"):
        declared = getattr(spec, name)
        if declared is not None:
            path = os.path.join(spec.outdir, declared)
            if "/" in declared:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            streams[name] = open(path, "wb")  # noqa: SIM115 (closed below)
        else:
            streams[name] = logs.pipe(name)
    try:
        try:
            proc = subprocess.Popen(spec.command, stdin=subprocess.DEVNULL,
                                    stdout=streams["stdout"], stderr=streams["stderr"],
                                    env=env, cwd=spec.outdir, close_fds=True)
        except OSError as exc:
            what = (f"'{spec.command[0]}' not found: {exc}" if exc.errno == errno.ENOENT
                    else f"the command could not start: {exc}")
            raise logs.failure(what) from None
    finally:
        for stream in streams.values():
            if hasattr(stream, "close"):
                stream.close()
            else:
                os.close(stream)
    return logs.wait(proc, spec.timelimit)


def collect(spec: JobSpec) -> dict[str, Any] | None:
    """The outputs of a finished job as cwltool would report them, or None where cwltool's
    collection must decide (``cwl.output.json``, a missing file, a non-regular file)."""
    if spec.outputs is None or os.path.lexists(os.path.join(spec.outdir, "cwl.output.json")):
        return None
    outputs: dict[str, Any] = {}
    for plan in spec.outputs:
        path = os.path.join(spec.outdir, plan.glob)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if not plan.optional:
                return None  # cwltool words the error
            outputs[plan.name] = None
            continue
        if not stat.S_ISREG(info.st_mode):
            return None
        basename = os.path.basename(path)
        root, ext = os.path.splitext(basename)
        value: dict[str, Any] = {"location": _file_uri(path), "basename": basename,
                                 "nameroot": root, "nameext": ext, "class": "File"}
        if spec.compute_checksum:
            value["checksum"] = "sha1$" + _sha1(path)
        value["size"] = info.st_size
        if plan.format is not None:
            value["format"] = plan.format
        value[_GENERATION] = 0
        outputs[plan.name] = value
    return outputs


def _file_uri(path: str) -> str:
    """schema-salad's ``file_uri`` for an absolute local path."""
    url = urllib.parse.quote(path)  # = urllib.request.pathname2url on POSIX
    return f"file:{url}" if url.startswith("//") else f"file://{url}"


def _sha1(path: str) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _collect_with_cwltool(tool: Any, job_order: dict[str, Any], settings: JobSettings,
                          spec: JobSpec, tmpdir: str, rcode: int, toplevel: bool,
                          logs: _Logs) -> dict[str, Any]:
    """cwltool's own output collection for the job that ran in ``spec.outdir``."""
    from cwl_utils.utils import bytes2str_in_dicts
    from cwltool.errors import WorkflowException

    context = settings.runtime_context(tool.name)
    context.toplevel = toplevel
    context.outdir, context.tmpdir = spec.outdir, tmpdir
    context.stagedir = spec.tmpdir + "-stage"
    try:
        job = next(iter(tool.process().job(job_order, _ignore, context)))
        outputs = cast(dict[str, Any], bytes2str_in_dicts(job.collect_outputs(spec.outdir, rcode)))
    except WorkflowException as exc:
        raise logs.failure(str(exc), rcode) from None
    escaped = escaping_output(outputs, job)
    if escaped:
        raise logs.failure(escaped, rcode)
    return dict(outputs or {})


class _Logs:
    """The streams a tool does not redirect: each read through a pipe and written to
    ``<log dir>/<step>-<id>.<stream>`` once it has anything to say (and on a failure, which
    names the files), so a quiet job leaves no file behind."""

    def __init__(self, name: str, log_dir: str | None, spec: JobSpec) -> None:
        self.name, self.log_dir, self.spec = name, log_dir, spec
        self._stem = f"{_safe(name)}-{uuid.uuid4().hex[:8]}"
        self._pipes: dict[int, str] = {}   # read end -> stream name
        self._files: dict[str, Any] = {}   # stream name -> open log file

    def pipe(self, stream: str) -> int:
        """A pipe for ``stream``: the write end for the child (closed here after the start)."""
        read, write = os.pipe()
        self._pipes[read] = stream
        return write

    def path(self, stream: str) -> str | None:
        declared = getattr(self.spec, stream)
        if declared is not None:
            return os.path.join(self.spec.outdir, declared)
        if self.log_dir is None or stream not in self._pipes.values():
            return None
        return os.path.join(self.log_dir, f"{self._stem}.{stream}")

    def _write(self, stream: str, data: bytes) -> None:
        handle = self._files.get(stream)
        if handle is None:
            path = self.path(stream)
            if path is None:
                return
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handle = self._files[stream] = open(path, "ab")  # noqa: SIM115 (see close)
        handle.write(data)

    def wait(self, proc: subprocess.Popen[bytes], timelimit: int | None) -> int:
        """Copy the pipes to their files until the process ends; its exit code.

        Waits on a pidfd (woken by the exit itself), so a background process the tool left
        holding a pipe does not keep the job waiting; the time limit sends SIGTERM, as
        cwltool does.
        """
        import time

        try:
            pidfd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            pidfd = None
        poller = select.poll()
        for fd in self._pipes:
            poller.register(fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        deadline = time.monotonic() + timelimit if timelimit else None
        open_pipes, exited = set(self._pipes), pidfd is None and not self._pipes
        try:
            while not exited and (open_pipes or pidfd is not None):
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                events = poller.poll(None if timeout is None else timeout * 1000)
                if not events and deadline is not None and time.monotonic() >= deadline:
                    _logger.warning("[job %s] exceeded time limit of %d seconds and will be "
                                    "terminated", self.spec.name, timelimit)
                    proc.terminate()
                    deadline = None
                for fd, _ in events:
                    if fd == pidfd:
                        exited = True
                    elif not self._read(fd):
                        poller.unregister(fd)
                        open_pipes.discard(fd)
            for fd in open_pipes:  # the process is gone: take what is left, do not wait
                os.set_blocking(fd, False)
                while self._read(fd):
                    pass
            if deadline is not None and pidfd is None:
                try:
                    return proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.terminate()
            return proc.wait()
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _read(self, fd: int) -> bool:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if data:
            self._write(self._pipes[fd], data)
        return bool(data)

    def failure(self, reason: str, exitcode: int | None = None) -> CWLStepFailed:
        """The error for a failed job: its command, exit code, and log files (made now if
        the tool wrote nothing, so the paths named exist)."""
        for stream in ("stdout", "stderr"):
            if stream in self._pipes.values():
                self._write(stream, b"")
            handle = self._files.get(stream)
            if handle is not None:
                handle.flush()
        stderr = self.path("stderr")
        return CWLStepFailed(self.name, self.spec.command, exitcode, self.path("stdout"),
                             stderr, reason, _tail(stderr))

    def close(self) -> None:
        for fd in self._pipes:
            try:
                os.close(fd)
            except OSError:
                pass
        for handle in self._files.values():
            handle.close()
        self._pipes.clear()
        self._files.clear()
