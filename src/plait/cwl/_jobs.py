"""Running one CWL tool job where a task runs, on cwltool's own job runner.

The body of every ExpressionTool task and of the CommandLineTool jobs that need that runner
(files to stage, InitialWorkDir, containers, ...); plain ones run directly (``_direct``).

cwltool is the reference for what happens inside one job (binding inputs to a command line,
evaluating expressions, staging InitialWorkDir, environment, stdin/stdout/stderr, time
limits, collecting outputs), so this module drives ``Process.job()`` and ``Job.run()`` for a
single tool, and turns a failure into :class:`CWLStepFailed` naming the step, the command
line, the exit code and where its output went. Which jobs run, when, and where is plait's
business (``_engine``), never cwltool's executor.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from plait.cwl._errors import CWLStepFailed, CWLUnsupportedRequirement
from plait.cwl._toolref import ToolRef

#: RuntimeContext fields that cannot or must not travel with a task
_LOCAL_ONLY = frozenset({
    "outdir", "tmpdir", "stagedir", "builder", "mutation_manager", "workflow_eval_lock",
    "research_obj", "prov_obj", "default_stdout", "default_stderr", "validate_stdout",
    "select_resources", "find_default_container", "job_script_provider", "postScatterEval",
    "make_fs_access", "path_mapper", "set_log_dir", "log_dir_handler",
    "workflow_job_step_name_callback", "toplevel", "part_of", "name",
})


@dataclass
class JobSettings:
    """The runtime options every tool job of one run shares (picklable).

    Args:
        runtime: cwltool RuntimeContext fields (plain values only).
        log_dir: where the standard output and error of tools that do not redirect them
            are written, one pair of files per job.
    """

    runtime: dict[str, Any] = field(default_factory=dict)
    log_dir: str | None = None
    #: cwltool objects of the context, as their attributes (unpickling the objects themselves
    #: would import cwltool in every worker, direct jobs' included): name -> attributes
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_runtime_context(cls, context: Any, log_dir: str | None) -> JobSettings:
        """Keep the plain, shareable fields of a cwltool RuntimeContext that differ from
        its defaults (every task carries them)."""
        from cwltool.context import RuntimeContext

        defaults = vars(RuntimeContext())
        runtime = {k: v for k, v in vars(context).items()
                   if k not in _LOCAL_ONLY and _shareable(v)
                   and (k not in defaults or defaults[k] != v)}
        objects = {}
        for name, default in _OBJECTS.items():
            value = getattr(context, name, None)
            if value is not None and vars(value) != vars(default()):
                objects[name] = dict(vars(value))
        return cls(runtime, log_dir, objects)

    def runtime_context(self, name: str) -> Any:
        """A fresh cwltool RuntimeContext for one job."""
        from cwltool.context import RuntimeContext
        from cwltool.mutation import MutationManager

        context = RuntimeContext(dict(self.runtime))
        for attribute, values in self.objects.items():
            value = _OBJECTS[attribute]()
            vars(value).update(values)
            setattr(context, attribute, value)
        context.name = name
        context.workflow_eval_lock = threading.Condition(threading.RLock())
        if context.mutation_manager is None:
            context.mutation_manager = MutationManager()
        return context


def _secret_store() -> Any:
    from cwltool.secrets import SecretStore

    return SecretStore()


def _mpi_config() -> Any:
    from cwltool.mpi import MpiConfig

    return MpiConfig()


#: the RuntimeContext's cwltool objects a job needs, and how to make a default one
_OBJECTS = {"secret_store": _secret_store, "mpi_config": _mpi_config}


def _shareable(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, (str, int, float, bool)) for v in value)
    return False


def run_tool_job(tool: ToolRef, job_order: dict[str, Any], settings: JobSettings,
                 mutation_manager: Any = None, toplevel: bool = False) -> dict[str, Any]:
    """Run ``tool`` on ``job_order`` (a CWL input object); return its CWL output object.

    ``toplevel`` is True for a tool run on its own (not as a workflow step): cwltool then
    discovers secondaryFiles that the input object does not list.

    Raises:
        CWLStepFailed: the command exited with a failure code, could not start, or its
            outputs could not be collected.
        CWLUnsupportedRequirement: the tool needs a feature that is not available here.
    """
    from cwltool.errors import UnsupportedRequirement, WorkflowException

    process = tool.process()
    context = settings.runtime_context(tool.name)
    context.toplevel = toplevel
    if mutation_manager is not None:  # shared within one process: in-place update checks
        context.mutation_manager = mutation_manager
    results: list[tuple[Any, str]] = []
    watch = _Watch(tool.name, settings.log_dir)

    def done(outputs: Any, status: str) -> None:
        results.append((outputs, status))

    try:
        with watch:
            for job in process.job(job_order, done, context):
                if job is None:  # only a workflow waits for inputs; a tool never should
                    raise CWLStepFailed(tool.name, [], None, None, None,
                                        "cwltool could not make its job")
                watch.attach(job, context)
                job.run(context)
    except UnsupportedRequirement as exc:
        raise CWLUnsupportedRequirement(tool.name, "a feature", str(exc)) from None
    except WorkflowException as exc:
        raise watch.failure(str(exc)) from None
    if not results:
        raise watch.failure("the job finished without reporting outputs")
    outputs, status = results[-1]
    if status != "success":
        raise watch.failure(_status_reason(status, watch.exitcode))
    escaped = escaping_output(outputs, watch.job)
    if escaped:
        raise watch.failure(escaped)
    return dict(outputs or {})


def escaping_output(outputs: Any, job: Any) -> str | None:
    """Why ``outputs`` may not be returned: one is a symlink out of the job's directory."""
    escaped = _escaping_symlink(outputs, job)
    if escaped is None:
        return None
    return (f"output {escaped[0]} is a symlink to {escaped[1]}, outside the job's directory "
            "(a tool may only return files it made or was given)")


def _escaping_symlink(outputs: Any, job: Any) -> tuple[str, str] | None:
    """An output that is a symlink in the job's directory to a file neither made nor given."""
    outdir = getattr(job, "outdir", None)
    if not outdir:
        return None
    from schema_salad.ref_resolver import uri_file_path

    root = os.path.realpath(outdir)
    given = set()
    for mapper in (getattr(job, "pathmapper", None), getattr(job, "generatemapper", None)):
        for _, entry in mapper.items() if mapper is not None else ():
            if isinstance(entry.resolved, str) and not entry.resolved.startswith("_:"):
                given.add(os.path.realpath(entry.resolved.removeprefix("file://")))
    stack = [outputs]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            location = str(value.get("location", ""))
            if value.get("class") in ("File", "Directory") and location.startswith("file://"):
                path = uri_file_path(location)
                if os.path.islink(path) and path.startswith(outdir):
                    target = os.path.realpath(path)
                    inside = target == root or target.startswith(root + os.sep)
                    if not inside and not any(target == g or target.startswith(g + os.sep)
                                              for g in given):
                        return path, target
            stack.extend(value.values())
    return None


def _status_reason(status: str, exitcode: int | None) -> str:
    if exitcode is None:
        return f"cwltool reported {status} (see the log above for the cause)"
    if exitcode == 0:
        return f"its outputs could not be collected ({status})"
    if exitcode < 0:
        import signal

        try:
            return f"the command was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"the command was killed by signal {-exitcode}"
    return f"the command exited with code {exitcode} ({status})"


class _Watch:
    """Records what a failure report needs: command line, exit code, output paths.

    Tools that do not redirect stdout/stderr get one file each in ``log_dir``, so their
    output is kept per job (and named in the failure) instead of mixed into one stream.
    """

    def __init__(self, name: str, log_dir: str | None) -> None:
        self.name, self.log_dir = name, log_dir
        self.job: Any = None
        self.exitcode: int | None = None
        self._streams: list[Any] = []
        self._paths: dict[str, str] = {}
        self.errors = _ThreadErrors()

    def __enter__(self) -> _Watch:
        logging.getLogger("cwltool").addHandler(self.errors)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("cwltool").removeHandler(self.errors)
        for stream in self._streams:
            stream.close()

    def attach(self, job: Any, context: Any) -> None:
        """Watch ``job``: wrap its output collection to learn the exit code."""
        self.job = job
        if hasattr(job, "process_monitor"):
            job.process_monitor = functools.partial(_wait_then_monitor, job.process_monitor)
        collect = getattr(job, "collect_outputs", None)
        if collect is not None:
            def collect_outputs(outdir: str, rcode: int) -> Any:
                self.exitcode = rcode
                return collect(outdir, rcode)

            job.collect_outputs = collect_outputs
        if self.log_dir is not None and hasattr(job, "command_line"):
            os.makedirs(self.log_dir, exist_ok=True)
            stem = os.path.join(self.log_dir, f"{_safe(self.name)}-{uuid.uuid4().hex[:8]}")
            for stream in ("stdout", "stderr"):
                if getattr(job, stream, None) is None:
                    path = self._paths[stream] = f"{stem}.{stream}"
                    handle = open(path, "wb")  # noqa: SIM115 (closed by __exit__)
                    self._streams.append(handle)
                    setattr(context, f"default_{stream}", handle)

    def _stream_path(self, stream: str) -> str | None:
        if stream in self._paths:
            return self._paths[stream]
        job = self.job
        declared = getattr(job, stream, None) if job is not None else None
        if declared is None:
            return None
        base = getattr(job, "base_path_logs", None) or getattr(job, "outdir", None) or ""
        return os.path.join(str(base), str(declared))

    def failure(self, reason: str) -> CWLStepFailed:
        """The error for a failed job, with whatever the job got to (and what cwltool
        logged as errors meanwhile: where a job ran in a worker, nobody else sees that)."""
        logged = [m for m in self.errors.messages if m not in reason]
        if logged:
            reason = f"{reason}: " + "; ".join(logged[-2:])
        job = self.job
        command = [str(w) for w in getattr(job, "command_line", None) or ()]
        stderr = self._stream_path("stderr")
        return CWLStepFailed(self.name, command, self.exitcode, self._stream_path("stdout"),
                             stderr, reason, _tail(stderr))


def _wait_then_monitor(monitor: Any, proc: Any) -> None:
    """Reap a tool that ends within a second; hand a longer one to cwltool's monitor.

    cwltool's monitor starts a timer thread per job and takes its first memory sample after
    one second, so for a job that ends sooner it only costs a thread: skipped here. The
    wait is on a pidfd (woken by the exit itself; ``Popen.wait(timeout)`` polls).
    """
    import select

    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux >= 5.3, or already reaped
        monitor(proc)
        return
    try:
        ended, _, _ = select.select([pidfd], [], [], 1.0)
    finally:
        os.close(pidfd)
    if ended:
        proc.wait()
    else:
        monitor(proc)


class _ThreadErrors(logging.Handler):
    """Keeps the ERROR messages cwltool logs from the thread running one job."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and len(self.messages) < 20:
            self.messages.append(record.getMessage()[:2000])


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "job"


def _tail(path: str | None, lines: int = 10) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
