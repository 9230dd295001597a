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
This module builds jobs (the submitter side); ``_direct_run`` runs them (the task side).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
