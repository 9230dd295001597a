"""Direct jobs: a plain CommandLineTool job run by plait itself, not by cwltool's job runner.

    submitter (Engine.run)                         task (a worker, or a thread)
    DirectTool.spec(job) ─ cwltool Process.job() ─▶ run_direct(spec)
      inputs validated, command line, stdout/          two directories made, one process,
      stderr names, environment, time limit;           its stderr kept only if it writes any;
      the job's directories named, not made            outputs globbed and checksummed here

cwltool remains the reference for what a job *is*: ``Process.job()`` builds it (a fraction of
a millisecond once the tool is loaded, so it runs where the job is submitted). What cwltool's
runner adds around the process for every job (three temporary directories, a staging pass,
log files for streams the tool leaves alone, its own output collection) costs several
milliseconds, which for a scatter of short jobs is most of the job. So for tools that need
none of it — no files to stage, no InitialWorkDir, no container, no in-place updates, no
cwltool extensions — the task runs the command itself. Outputs whose binding is a literal
file name are collected here exactly as cwltool collects them; anything else (an expression,
a pattern, ``cwl.output.json``, an output that is not a regular file) is handed to cwltool's
own collection in the task. Everything else runs on the full path (``_jobs.run_tool_job``).
"""

from __future__ import annotations

import errno
import hashlib
import itertools
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
from dataclasses import dataclass, field
from typing import Any, cast

from plait.cwl._errors import CWLStepFailed
from plait.cwl._jobs import JobSettings, _safe, _status_reason, _tail, escaping_output

_logger = logging.getLogger("cwltool")  # cwltool's own logger: the same lines as its runner

#: requirements and hints a direct job honours exactly (anything else: the full path)
_DIRECT_REQUIREMENTS = frozenset({
    "EnvVarRequirement", "ShellCommandRequirement", "ResourceRequirement",
    "SchemaDefRequirement", "InlineJavascriptRequirement", "LoadListingRequirement",
    "NetworkAccess", "WorkReuse", "ToolTimeLimit", "DockerRequirement",
    # a workflow's, inherited by its steps' tools, meaning nothing to a tool's job
    "ScatterFeatureRequirement", "SubworkflowFeatureRequirement",
    "MultipleInputFeatureRequirement", "StepInputExpressionRequirement",
})
#: runtime options that change what cwltool's runner does around a job
_FULL_PATH_OPTIONS = ("cachedir", "log_dir", "default_container", "research_obj",
                      "job_script_provider")
#: variables cwltool's runner sets itself (HOME, TMPDIR, PATH, and two from the host)
_HOST_VARIABLES = ("PATH", "SYSTEMROOT", "QEMU_LD_PREFIX")
_GENERATION = "http://commonwl.org/cwltool#generation"
_GLOB_MAGIC = frozenset("*?[")


@dataclass(frozen=True)
class OutputPlan:
    """How to collect one output that is a file with a literal name (``glob: out.txt``)."""

    name: str
    glob: str
    optional: bool
    format: str | None = None


@dataclass
class JobSpec:
    """One job, built where it was submitted: what the task needs to run it (picklable)."""

    name: str
    command: list[str]
    outdir: str
    tmpdir: str
    stdout: str | None
    stderr: str | None
    environment: dict[str, str]          # EnvVarRequirement's (the runner adds the host's)
    timelimit: int | None
    success_codes: list[int] = field(default_factory=list)
    temporary_fail_codes: list[int] = field(default_factory=list)
    permanent_fail_codes: list[int] = field(default_factory=list)
    outputs: list[OutputPlan] | None = None  # None: cwltool collects them
    compute_checksum: bool = True
    #: the tool never mentions its temporary directory, so the task may give it an empty
    #: one kept from an earlier job instead of making ``tmpdir`` (see _TemporaryDirs)
    any_tmpdir: bool = False


class DirectTool:
    """A CommandLineTool whose jobs can run directly, and where their directories go.

    Build with :func:`direct_tool`; ``spec`` returns None for a job that needs the full
    path after all (an input File or Directory to stage, a stdin, or cwltool refusing it).

    A tool without expressions or shell quoting places a string input's value verbatim
    in its command line, so its jobs differ only there: cwltool builds the job once per
    *shape* (which inputs are given, and the values of those that are not strings) with a
    unique marker for each string, and each job of that shape is the template with its own
    strings put in place of the markers (see :class:`_Template`).
    """

    def __init__(self, process: Any, outputs: list[OutputPlan] | None) -> None:
        import json

        self.process, self.outputs = process, outputs
        text = json.dumps(process.tool, default=str)
        self.any_tmpdir = "tmpdir" not in text
        shell, _ = process.get_requirement("ShellCommandRequirement")
        self._strings: frozenset[str] | None = None  # inputs a template may fill in
        if "$(" not in text and "${" not in text and shell is None:
            from cwltool.process import shortname

            self._strings = frozenset(shortname(i["id"]) for i in process.tool["inputs"]
                                      if _is_string_type(i.get("type")))
        self._templates: dict[tuple[Any, ...], _Template | None] = {}
        self._numbers = itertools.count(1)

    def spec(self, job_order: Mapping[str, Any], context: Any, dirs: JobDirs) -> JobSpec | None:
        """The job of ``job_order``, built by cwltool with directories named by ``dirs``."""
        if _has_files(job_order):
            return None
        n = next(self._numbers)
        # cwltool's job names (step, step_2, ...), without its search of the names so far
        name = context.name if n == 1 else f"{context.name}_{n}"
        outdir, tmpdir = dirs.allocate()
        shape = self._shape(job_order)
        if shape is not None and shape not in self._templates \
                and len(self._templates) < _TEMPLATES_PER_TOOL:
            self._templates[shape] = _Template.make(self, job_order, context, shape)
        template = self._templates.get(shape) if shape is not None else None
        if template is None:
            return self._build(job_order, context, name, outdir, tmpdir)
        return template.fill(job_order, name, outdir, tmpdir)

    def _shape(self, job_order: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """What decides a job's command line besides its strings; None: no template."""
        if self._strings is None:
            return None
        shape: list[tuple[Any, ...]] = []
        for key in sorted(job_order):
            value = job_order[key]
            if key in self._strings and type(value) is str:
                shape.append((key, "string"))
            elif value is None or type(value) in (bool, int, str):
                shape.append((key, type(value).__name__, value))
            else:
                return None
        return tuple(shape)

    def _build(self, job_order: Mapping[str, Any], context: Any, name: str, outdir: str,
               tmpdir: str) -> JobSpec | None:
        build = context.copy()
        build.name = name
        build.outdir, build.tmpdir, build.stagedir = outdir, tmpdir, tmpdir + "-stage"
        build.mutation_manager = None  # readers are registered by the task that reads
        build.preserve_environment, build.preserve_entire_environment = None, False
        try:
            job = next(iter(self.process.job(job_order, _ignore, build)), None)
        except Exception:
            return None
        if job is None or getattr(job, "stdin", None) or not hasattr(job, "command_line") \
                or job.generatefiles.get("listing"):
            return None
        host = set(_required_environment(outdir, tmpdir))
        return JobSpec(
            name=job.name, command=[str(w) for w in job.command_line], outdir=outdir,
            tmpdir=tmpdir, stdout=job.stdout, stderr=job.stderr,
            environment={k: v for k, v in job.environment.items() if k not in host},
            timelimit=job.timelimit, success_codes=list(job.successCodes),
            temporary_fail_codes=list(job.temporaryFailCodes),
            permanent_fail_codes=list(job.permanentFailCodes), outputs=self.outputs,
            compute_checksum=context.compute_checksum is not False,
            any_tmpdir=self.any_tmpdir)


class _Template:
    """One shape's job with a marker for each string input, and where the markers are."""

    def __init__(self, spec: JobSpec, markers: dict[str, str]) -> None:
        self.spec, self.markers = spec, markers

    @classmethod
    def make(cls, tool: DirectTool, job_order: Mapping[str, Any], context: Any,
             shape: tuple[Any, ...]) -> _Template | None:
        """Build the template; None if a marker turns up anywhere but the command line (or
        cwltool refuses the job)."""
        token = uuid.uuid4().hex
        markers = {entry[0]: f"plait{token}{i}x" for i, entry in enumerate(shape)
                   if entry[1:] == ("string",)}
        marked = {k: markers.get(k, v) for k, v in job_order.items()}
        spec = tool._build(marked, context, context.name, "/plait-template/out",
                           "/plait-template/tmp")
        if spec is None:
            return None
        elsewhere = (spec.stdout, spec.stderr, *spec.environment, *spec.environment.values())
        if any(m in str(text) for m in markers.values() for text in elsewhere):
            return None
        return cls(spec, markers)

    def fill(self, job_order: Mapping[str, Any], name: str, outdir: str,
             tmpdir: str) -> JobSpec:
        """The job of ``job_order`` (of this template's shape)."""
        import dataclasses

        command = self.spec.command
        for key, marker in self.markers.items():
            value = job_order[key]
            command = [word.replace(marker, value) if marker in word else word
                       for word in command]
        return dataclasses.replace(self.spec, name=name, command=command, outdir=outdir,
                                   tmpdir=tmpdir)


#: templates kept per tool (shapes differ by their non-string values: a bound on memory)
_TEMPLATES_PER_TOOL = 64


def _is_string_type(cwl_type: Any) -> bool:
    """``string`` or ``string?``."""
    if isinstance(cwl_type, list):
        return sorted(str(t) for t in cwl_type) == ["null", "string"]
    return cwl_type == "string"


def _ignore(outputs: Any, status: str) -> None:
    """The output callback of a job built only to be described."""


class JobDirs:
    """Names each direct job's output and temporary directory, inside two directories made
    once (so no name can collide with anything but an earlier attempt of the same job)."""

    def __init__(self, out_prefix: str, tmp_prefix: str) -> None:
        self._prefixes = (out_prefix, tmp_prefix)
        self._parents: tuple[str, str] | None = None
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def allocate(self) -> tuple[str, str]:
        """A fresh (outdir, tmpdir) pair of paths; the task makes them."""
        with self._lock:
            if self._parents is None:
                self._parents = (_mkdtemp(self._prefixes[0]), _mkdtemp(self._prefixes[1]))
            n = next(self._numbers)
        return os.path.join(self._parents[0], str(n)), os.path.join(self._parents[1], str(n))

    def remove_temporary(self) -> None:
        """Remove the temporary directories' parent (each job removes its own)."""
        import shutil

        if self._parents is not None:
            shutil.rmtree(self._parents[1], ignore_errors=True)


def _mkdtemp(prefix: str) -> str:
    parent, base = os.path.split(prefix)
    if parent:
        os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix=base, dir=parent or None)


def direct_tool(process: Any, context: Any) -> DirectTool | None:
    """``process`` as a DirectTool, or None if its jobs need cwltool's runner (``context``:
    the run's RuntimeContext)."""
    tool = process.tool
    if tool.get("class") != "CommandLineTool" or tool.get("stdin"):
        return None
    if any(getattr(context, option, None) for option in _FULL_PATH_OPTIONS):
        return None
    secrets = getattr(context, "secret_store", None)
    if secrets is not None and secrets.secrets:  # placeholders cwltool's runner swaps back
        return None
    for requirement in (*process.requirements, *process.hints):
        kind = requirement.get("class")
        if kind not in _DIRECT_REQUIREMENTS:
            return None
        if kind == "DockerRequirement" and context.use_container:
            return None
    return DirectTool(process, _output_plans(tool["outputs"]))


def _output_plans(ports: Any) -> list[OutputPlan] | None:
    """Plans for outputs that are files of a literal name; None if any port is not."""
    from cwltool.process import shortname

    plans = []
    for port in ports:
        kind, binding = port.get("type"), port.get("outputBinding") or {}
        optional = isinstance(kind, list) and sorted(kind) == ["File", "null"]
        glob, fmt = binding.get("glob"), port.get("format")
        if not (kind == "File" or optional) or set(binding) != {"glob"} \
                or "secondaryFiles" in port or not _literal_name(glob) \
                or (fmt is not None and not _literal(fmt)):
            return None
        plans.append(OutputPlan(shortname(port["id"]), str(glob), optional,
                                None if fmt is None else str(fmt)))
    return plans


def _literal(text: Any) -> bool:
    return isinstance(text, str) and "$(" not in text and "${" not in text


def _literal_name(glob: Any) -> bool:
    """A glob that names one file inside the output directory, without a pattern."""
    if not _literal(glob) or not glob or glob.startswith("/") or _GLOB_MAGIC & set(glob):
        return False
    return all(part not in ("", ".", "..") for part in glob.split("/"))


def _has_files(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if item.get("class") in ("File", "Directory"):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _required_environment(outdir: str, tmpdir: str) -> dict[str, str]:
    """What cwltool's runner sets for every job (``CommandLineJob._required_env``)."""
    env = {"HOME": outdir, "TMPDIR": tmpdir, "PATH": os.environ["PATH"]}
    for name in _HOST_VARIABLES[1:]:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


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


# -- the task side ------------------------------------------------------------------------------
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
