"""The CWL workflow engine on plait's dataflow: every step and every scattered job is a task.

    run(process, inputs) ─┬─ CommandLineTool / ExpressionTool ─▶ one `cwl_tool` task
                          │      (python app on the user's executors: run_direct for a
                          │      plain CommandLineTool job, built here; else run_tool_job)
                          └─ Workflow ─▶ one `cwl_step` join task per step, in dependency
                                 order, each waiting on the futures of its sources;
                                 its body links inputs, scatters, evaluates valueFrom/when,
                                 calls run() per job and joins a `cwl_gather` task;
                             a `cwl_outputs` task collects the workflow's outputs.

Join bodies run on the kernel's internal threads and never block: they only submit tasks and
return futures, so a workflow of any depth runs with a few internal threads, and scattered
jobs run in parallel up to the executors' capacity. Failures travel as plait failures: a
failed job fails its step, whose dependents fail with DependencyError naming it.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from plait.cwl import _steps
from plait.cwl._direct import DirectTool, JobDirs, JobSpec, direct_tool
from plait.cwl._direct_run import run_direct
from plait.cwl._errors import CWLError, CWLInputError, CWLUnsupportedRequirement
from plait.cwl._jobs import JobSettings, run_tool_job
from plait.cwl._scatter import split
from plait.cwl._toolref import ToolRef
from plait.dataflow.memoization import id_for_memo

_INPUTS = "#inputs"  # the pseudo-step whose "outputs" are the workflow's inputs


def _done(value: Any) -> Future[Any]:
    fut: Future[Any] = Future()
    fut.set_result(value)
    return fut


def plain(value: Any) -> Any:
    """ruamel's commented maps and sequences as plain dicts and lists; its strings as str.

    cwltool deep-copies every input object; a commented one copies its line data along,
    which for a 1,000-element scatter input took seconds. Numbers keep ruamel's types: they
    remember how they were written (``0.00001`` must not become ``1e-05`` on a command
    line), and ``_scalar_id`` gives them a memoization hash.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):  # ruamel's DoubleQuotedScalarString and friends
        return str(value)
    return value


def _scalar_id(value: Any, output_ref: bool = False) -> bytes:
    """Memoization identity of a ruamel number: its type and its text."""
    return f"ruamel:{type(value).__name__}:{value!r}".encode()


def _register_scalar_hashers() -> None:
    from ruamel.yaml.scalarbool import ScalarBoolean
    from ruamel.yaml.scalarfloat import ScalarFloat
    from ruamel.yaml.scalarint import ScalarInt

    for kind in (ScalarBoolean, ScalarFloat, ScalarInt):
        id_for_memo.register(kind)(_scalar_id)


def _merged(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for result in results:
        merged.update(result)
    return merged


@dataclass
class StepPlan:
    """What a step task needs, computed once per step of a loaded workflow."""

    step: Any                       # cwltool WorkflowStep
    name: str
    deps: list[str]                 # producer keys: _INPUTS or step ids
    evaluator: _steps.Evaluator
    multiple_inputs: bool
    params: dict[str, Any]          # source id -> parameter (shared with the workflow plan)


@dataclass
class WorkflowPlan:
    """A workflow's steps in dependency order, and where each source comes from."""

    workflow: Any
    steps: list[StepPlan] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    multiple_inputs: bool = False


class Engine:
    """Submits CWL processes to one DataFlowKernel.

    Args:
        dfk: the kernel.
        context: the cwltool RuntimeContext of the run (expressions, input checks).
        settings: what every tool job gets (runtime options, log directory).
        executors: labels of the executors tool jobs may run on (``"all"``).
    """

    def __init__(self, dfk: Any, context: Any, settings: JobSettings,
                 executors: str | Sequence[str] = "all",
                 tool_apps: dict[int, Any] | None = None) -> None:
        from cwltool.mutation import MutationManager

        from plait.app.app import join_app
        from plait.cwl._javascript import track_javascript

        track_javascript(dfk)  # expressions' Node.js processes end with the kernel
        self.dfk, self.context, self.settings = dfk, context, settings
        self._nested = context.copy()
        self._nested.toplevel = False
        self.mutations = MutationManager()
        # one app per tool, shared by the engines of one kernel (``tool_apps``): its function
        # carries the tool, so the pilot executor sends the tool to each worker only once
        self._tool_apps: dict[int, Any] = {} if tool_apps is None else tool_apps
        self._plans: dict[int, WorkflowPlan] = {}
        #: per tool: how its jobs run directly (None: on cwltool's runner); see _direct
        self._direct: dict[int, DirectTool | None] = {}
        self.job_dirs = JobDirs(context.tmp_outdir_prefix, context.tmpdir_prefix)
        self._cap = _resource_caps(dfk)
        self._executors = executors
        self._step = join_app(data_flow_kernel=dfk)(cwl_step)
        self._compute = join_app(data_flow_kernel=dfk)(cwl_compute)
        #: the first job that failed (what a run reports); with on_error "stop" (cwltool's
        #: default) the jobs not started yet are then cancelled
        self.first_failure: BaseException | None = None
        self._stop_on_error = getattr(context, "on_error", "stop") != "continue"
        self._pending: set[Any] = set()
        self._lock = threading.Lock()

    # -- processes ---------------------------------------------------------------------------
    def run(self, process: Any, job_order: dict[str, Any], name: str | None = None,
            toplevel: bool = True) -> Any:
        """Submit ``process`` on ``job_order`` (plain CWL values); a future of its outputs.

        ``toplevel`` is False for the tools and subworkflows of steps.
        """
        job_order = plain(job_order)
        kind = process.tool.get("class")
        if kind == "Workflow":
            return self._workflow(process, job_order, toplevel, name if not toplevel else None)
        if kind == "Operation":
            raise CWLUnsupportedRequirement(
                name or _steps.shortname(process.tool["id"]), "an implementation",
                "it is an abstract Operation, which has nothing to run")
        if toplevel:
            check_required(process, job_order)
        app = self._tool_apps.get(id(process))
        if app is None:
            from plait.app.app import python_app

            ref = ToolRef(process, name or _steps.shortname(process.tool["id"]))
            reuse, _ = process.get_requirement("WorkReuse")
            cache = bool(reuse.get("enableReuse", True)) if reuse else True
            app = self._tool_apps[id(process)] = python_app(
                data_flow_kernel=self.dfk, executors=self._executors, cache=cache,
                ignore_for_cache=["settings", "mutations", "spec"])(ToolTask(ref))
        resources = self._resources(process)
        extra: dict[str, Any] = {"parsl_resource_specification": resources} if resources else {}
        spec = self._direct_spec(process, job_order, app.func.tool.name, toplevel)
        if spec is not None:
            extra["spec"] = spec
        else:
            extra["mutations"] = self.mutations
        fut = app(job_order, reuse_key=self._reuse_key(job_order), settings=self.settings,
                  toplevel=toplevel, **extra)
        with self._lock:
            self._pending.add(fut)
        fut.add_done_callback(self._job_done)
        return fut

    def _direct_spec(self, process: Any, job_order: dict[str, Any], name: str,
                     toplevel: bool) -> JobSpec | None:
        """The job built here to run directly (see _direct), or None for the full path."""
        key = id(process)
        if key not in self._direct:
            self._direct[key] = direct_tool(process, self.context)
        direct = self._direct[key]
        if direct is None:
            return None
        context = (self.context if toplevel else self._nested).copy()
        context.name = name
        return direct.spec(job_order, context, self.job_dirs)

    def _job_done(self, fut: Any) -> None:
        with self._lock:
            self._pending.discard(fut)
            failed = not fut.cancelled() and fut.exception() is not None
            first = failed and self.first_failure is None
            if first:
                self.first_failure = fut.exception()
            stop = list(self._pending) if first and self._stop_on_error else []
        for other in stop:  # outside the lock: cancelling runs the kernel's callbacks
            other.cancel()

    def _reuse_key(self, job_order: Mapping[str, Any]) -> tuple[Any, ...]:
        """What besides the input object decides a job's result, for plait's memoization
        (WorkReuse): each input file's size and modification time, and this run's job
        directory, so that a checkpoint of another run (whose job directories are gone)
        never answers for this one."""
        stamps = []
        for location in sorted(_file_locations(job_order)):
            try:
                st = os.stat(location.removeprefix("file://"))
                stamps.append((location, st.st_size, st.st_mtime_ns))
            except OSError:
                stamps.append((location, -1, -1))
        return (self.settings.runtime.get("tmp_outdir_prefix"), tuple(stamps))

    def _resources(self, process: Any) -> dict[str, Any] | None:
        """ResourceRequirement's literal coresMin/ramMin, for executors that place by them."""
        if self._cap is None:
            return None
        req, _ = process.get_requirement("ResourceRequirement")
        if not req:
            return None
        spec: dict[str, Any] = {}
        cores, ram = req.get("coresMin"), req.get("ramMin")
        if isinstance(cores, (int, float)) and not isinstance(cores, bool):
            spec["cores"] = min(math.ceil(cores), self._cap[0])
        if isinstance(ram, (int, float)) and not isinstance(ram, bool):
            spec["memory"] = min(math.ceil(ram), self._cap[1])
        return spec or None

    # -- workflows ---------------------------------------------------------------------------
    def _workflow(self, workflow: Any, job_order: dict[str, Any], toplevel: bool,
                  prefix: str | None) -> Any:
        plan = self._plan(workflow, prefix)
        inputs = self.workflow_inputs(workflow, job_order, toplevel)
        futures: dict[str, Any] = {_INPUTS: _done(inputs)}
        for step in plan.steps:
            futures[step.step.id] = self._step(self, step, *(futures[d] for d in step.deps))
        return self._compute(functools.partial(_workflow_outputs, plan), *futures.values())

    def workflow_inputs(self, workflow: Any, job_order: dict[str, Any],
                        toplevel: bool = True) -> dict[str, Any]:
        """The workflow's input values by full id: validated, defaults filled in."""
        from cwltool.errors import WorkflowException
        from schema_salad.exceptions import ValidationException

        check_required(workflow, job_order)
        try:
            job = workflow._init_job(job_order, self.context if toplevel else self._nested).job
        except (ValidationException, WorkflowException) as exc:
            raise CWLError(f"workflow {_steps.shortname(workflow.tool['id'])}: invalid "
                           f"inputs: {exc}") from None
        inputs = {}
        for inp in workflow.tool["inputs"]:
            short = _steps.shortname(inp["id"])
            if short in job:
                inputs[inp["id"]] = job[short]
            elif "default" in inp:
                inputs[inp["id"]] = inp["default"]
            else:
                inputs[inp["id"]] = None  # optional and not given
        return inputs

    def _plan(self, workflow: Any, prefix: str | None) -> WorkflowPlan:
        plan = self._plans.get(id(workflow))
        if plan is None:
            plan = self._plans[id(workflow)] = make_plan(workflow, self.context, prefix)
        return plan

    def step_jobs(self, plan: StepPlan, values: dict[str, Any]) -> Any:
        """The body of a step task: its jobs, submitted; a future of the step's outputs."""
        step = plan.step
        job = _steps.link(step.tool, values, plan.params, plan.multiple_inputs)
        scatter = step.tool.get("scatter")
        if step.tool.get("http://commonwl.org/cwltool#Loop") or step.tool.get("loop"):
            raise CWLUnsupportedRequirement(plan.name, "Loop",
                                            "plait does not run cwltool's Loop extension")
        dims: list[int] | None = None
        if scatter is None:
            jobs = [job]
        else:
            keys = scatter if isinstance(scatter, list) else [scatter]
            jobs, dims = split(job, keys, step.tool.get("scatterMethod"))
        evaluated = [plan.evaluator.evaluate(j) for j in jobs]
        futures = [self.run(step.embedded_tool, _steps.tool_inputs(step.tool, j), plan.name,
                            toplevel=False)
                   for j in evaluated if j is not None]
        ran = [j is not None for j in evaluated]
        return self._compute(functools.partial(_gather, step.tool, ran, dims), *futures)


def make_plan(workflow: Any, context: Any, prefix: str | None = None) -> WorkflowPlan:
    """Order a workflow's steps so every step comes after the steps it takes inputs from.

    Steps are named by their path from the top workflow (``prefix``/step).
    """
    multiple = bool(workflow.get_requirement("MultipleInputFeatureRequirement")[0])
    plan = WorkflowPlan(workflow, multiple_inputs=multiple)
    producer: dict[str, str] = {}
    for inp in workflow.tool["inputs"]:
        plan.params[inp["id"]] = inp
        producer[inp["id"]] = _INPUTS
    for step in workflow.steps:
        for out in step.tool["outputs"]:
            plan.params[out["id"]] = out
            producer[out["id"]] = step.id
    pending: dict[str, StepPlan] = {}
    for step in workflow.steps:
        deps = set()
        for inp in step.tool["inputs"]:
            for source in _as_list(inp.get("source")):
                if source not in producer:
                    raise CWLError(f"step {_steps.shortname(step.id)}: source {source} "
                                   "is neither a workflow input nor a step output")
                deps.add(producer[source])
        short = _steps.shortname(step.id)
        pending[step.id] = StepPlan(
            step, f"{prefix}/{short}" if prefix else short, sorted(deps),
            _steps.Evaluator(step.tool, workflow.requirements, context), multiple,
            plan.params)
    done = {_INPUTS}
    order = sorted(pending)  # deterministic (cwltool shuffles its step list)
    while pending:
        ready = [sid for sid in order if sid in pending and set(pending[sid].deps) <= done]
        if not ready:
            raise CWLError("the workflow's steps depend on each other in a cycle: "
                           + ", ".join(_steps.shortname(s) for s in pending))
        for sid in ready:
            plan.steps.append(pending.pop(sid))
            done.add(sid)
    return plan


def check_required(process: Any, job_order: Mapping[str, Any]) -> None:
    """Raise CWLInputError naming the first required input ``job_order`` lacks, and its type."""
    for inp in process.tool["inputs"]:
        short = _steps.shortname(inp["id"])
        if job_order.get(short) is not None or "default" in inp or _optional(inp.get("type")):
            continue
        raise CWLInputError(_steps.shortname(process.tool["id"]), short,
                            _type_name(inp.get("type")), "is missing")


def _optional(cwl_type: Any) -> bool:
    return cwl_type == "null" or (isinstance(cwl_type, list) and "null" in cwl_type)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _type_name(cwl_type: Any) -> str:
    if isinstance(cwl_type, str):
        return cwl_type.rsplit("#", 1)[-1]
    if isinstance(cwl_type, list):
        return " | ".join(_type_name(t) for t in cwl_type)
    if isinstance(cwl_type, dict):
        if cwl_type.get("type") == "array":
            return f"{_type_name(cwl_type.get('items'))}[]"
        return _type_name(cwl_type.get("type"))
    return str(cwl_type)


def _resource_caps(dfk: Any) -> tuple[int, int] | None:
    """Largest cores/memory (MB) a task may ask for, or None if no executor places by them."""
    from plait.executors import ThreadPoolExecutor

    executors = [ex for label, ex in dfk.executors.items() if not label.startswith("_")]
    if not executors or all(isinstance(ex, ThreadPoolExecutor) for ex in executors):
        return None
    import psutil

    # A task asking for more than a node has would never be placed: cap at this host's size.
    return os.cpu_count() or 1, int(psutil.virtual_memory().total / 2**20 * 0.9)


# -- task bodies (module level, so that they pickle by reference) ------------------------------
def _file_locations(value: Any) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            location = item.get("location")
            if item.get("class") in ("File", "Directory") and isinstance(location, str) \
                    and location.startswith("file://"):
                found.append(location)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class ToolTask:
    """The function of a tool's tasks: one CommandLineTool or ExpressionTool job.

    One object per tool: executors that pickle functions once per object (the pilot) send
    the tool to each worker once, and each task carries only its input object.
    """

    __name__ = "cwl_tool"

    def __init__(self, tool: ToolRef) -> None:
        self.tool = tool

    def __call__(self, job_order: dict[str, Any], *, reuse_key: Any, settings: JobSettings,
                 mutations: Any = None, toplevel: bool = False,
                 spec: JobSpec | None = None) -> dict[str, Any]:
        if spec is not None:
            return run_direct(self.tool, job_order, settings, spec, toplevel)
        return run_tool_job(self.tool, job_order, settings, mutations, toplevel)

    def __repr__(self) -> str:
        return f"<cwl_tool {self.tool.name}>"


def _tool_task_id(task: ToolTask, output_ref: bool = False) -> bytes:
    """A tool's memoization identity: its recipe's digest (document, requirements, hints)."""
    return b"cwl-tool:" + task.tool.recipe()["digest"].encode()


id_for_memo.register(ToolTask)(_tool_task_id)
_register_scalar_hashers()


def cwl_step(engine: Engine, plan: StepPlan, *results: Mapping[str, Any]) -> Any:
    """One workflow step: once its sources are done, submit its jobs (internal thread)."""
    return engine.step_jobs(plan, _merged(results))


def cwl_compute(fn: Callable[..., Any], *values: Any) -> Future[Any]:
    """``fn(*values)`` once every future among ``values`` is done, as a task of its own."""
    return _done(fn(*values))


def _gather(step_tool: Mapping[str, Any], ran: Sequence[bool], dims: list[int] | None,
            *outputs: Mapping[str, Any]) -> dict[str, Any]:
    it = iter(outputs)
    per_job = [next(it) if r else None for r in ran]
    return _steps.gather(step_tool, per_job, dims)


def _workflow_outputs(plan: WorkflowPlan, *results: Mapping[str, Any]) -> dict[str, Any]:
    values = _merged(results)
    return _steps.link(plan.workflow.tool, values, plan.params, plan.multiple_inputs,
                       source_field="outputSource", incomplete=True)
