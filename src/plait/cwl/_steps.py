"""What one workflow step does between its sources and its jobs (no tasks, no threads).

    sources' values ──link()──▶ step input object ──(scatter.split)──▶ job input objects
      ──evaluate()──▶ valueFrom applied, `when` decided ──tool_inputs()──▶ the tool's inputs
    jobs' outputs ──gather()──▶ the step's output values (arrays for a scatter)

``link`` reuses cwltool's ``object_from_state`` (linkMerge, pickValue, defaults), so the
rules match the reference runner; expressions are evaluated with cwl-utils, as cwltool does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from plait.cwl._errors import CWLError


def shortname(identifier: str) -> str:
    """The last part of a CWL identifier: ``file:///wf.cwl#main/step/out`` -> ``out``."""
    from cwltool.process import shortname as cwl_shortname

    return cwl_shortname(identifier)


def link(step_tool: Mapping[str, Any], values: Mapping[str, Any],
         params: Mapping[str, Any], multiple_inputs: bool,
         source_field: str = "source", incomplete: bool = False) -> dict[str, Any]:
    """The input object of a step (or a workflow's output object) from its sources' values.

    Args:
        step_tool: the step's (or workflow's) resolved document.
        values: source id -> value, for every source that has one.
        params: source id -> its parameter (for type matching).
        multiple_inputs: MultipleInputFeatureRequirement is in force.
        source_field: ``"source"`` for step inputs, ``"outputSource"`` for outputs.
        incomplete: allow missing sources (workflow outputs of skipped branches).
    """
    from cwltool.errors import WorkflowException
    from cwltool.utils import WorkflowStateItem
    from cwltool.workflow_job import object_from_state

    state: dict[str, WorkflowStateItem | None] = {
        sid: WorkflowStateItem(params[sid], value, "success") for sid, value in values.items()}
    fields = step_tool["inputs"] if source_field == "source" else step_tool["outputs"]
    try:
        linked = object_from_state(state, fields, source_field == "outputSource",
                                   multiple_inputs, source_field, incomplete=incomplete)
    except WorkflowException as exc:
        raise CWLError(f"{_name(step_tool)}: {exc}") from None
    if linked is None:
        raise CWLError(f"{_name(step_tool)}: a source had no value")
    return dict(linked)


def _name(tool: Mapping[str, Any]) -> str:
    identifier = str(tool.get("id", "step"))
    return identifier.rsplit("#", 1)[-1]


class Evaluator:
    """Evaluates a step's ``valueFrom`` and ``when`` in its workflow's context."""

    def __init__(self, step_tool: Mapping[str, Any], requirements: Sequence[Any],
                 context: Any) -> None:
        self.step_tool, self.requirements, self.context = step_tool, list(requirements), context
        self.value_from = {i["id"]: i["valueFrom"] for i in step_tool["inputs"]
                           if "valueFrom" in i}
        self.load_contents = {i["id"] for i in step_tool["inputs"] if i.get("loadContents")}
        if self.value_from and not any(
                r.get("class") == "StepInputExpressionRequirement" for r in self.requirements):
            raise CWLError(f"step {_name(step_tool)} uses valueFrom, which needs "
                           "StepInputExpressionRequirement in the workflow's requirements")

    def _eval(self, expression: Any, inputs: dict[str, Any], self_value: Any = None) -> Any:
        from cwl_utils import expression as cwl_expression

        context = self.context
        return cwl_expression.do_eval(
            expression, inputs, self.requirements, None, None, {}, context=self_value,
            debug=context.debug, js_console=context.js_console,
            timeout=context.eval_timeout, container_engine="docker")

    def evaluate(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """``job`` after loadContents and valueFrom; None if ``when`` says skip."""
        from cwltool.builder import content_limit_respected_read
        from cwltool.stdfsaccess import StdFsAccess
        from cwltool.utils import adjustDirObjs, get_listing

        make_fs = getattr(self.context, "make_fs_access", None) or StdFsAccess
        fs_access = make_fs("")
        for key in self.load_contents:
            value = job.get(key)
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and item.get("contents") is None:
                    with fs_access.open(str(item["location"]), "rb") as f:
                        item["contents"] = content_limit_respected_read(f)
        if self.value_from:
            short = {shortname(k): v for k, v in job.items()}
            evaluated = {}
            for key, value in job.items():
                if key in self.value_from:
                    adjustDirObjs(value, functools.partial(get_listing, fs_access,
                                                           recursive=True))
                    value = self._eval(self.value_from[key], short, value)
                evaluated[key] = value
            job = evaluated
        when = self.step_tool.get("when")
        if when is not None:
            decision = self._eval(when, {shortname(k): v for k, v in job.items()})
            if decision is False:
                return None
            if decision is not True:
                raise CWLError(f"step {_name(self.step_tool)}: 'when' must evaluate to true "
                               f"or false, not {decision!r}")
        return job


def tool_inputs(step_tool: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, Any]:
    """A step's job as its tool's input object: short names, unconnected inputs dropped."""
    return {shortname(i["id"]): job.get(i["id"]) for i in step_tool["inputs"]
            if not i.get("not_connected")}


def gather(step_tool: Mapping[str, Any], outputs: Sequence[Mapping[str, Any] | None],
           dims: Sequence[int] | None) -> dict[str, Any]:
    """The step's outputs (by full id) from its jobs' output objects (None: skipped).

    ``dims`` is None for a step without scatter (one job), else the scatter's dimensions.
    """
    from plait.cwl._scatter import nest

    result: dict[str, Any] = {}
    for out in step_tool["outputs"]:
        oid = out["id"]
        field = shortname(oid)
        values: list[Any] = []
        for job_out in outputs:
            if job_out is None:
                values.append(None)
            elif field in job_out:
                values.append(job_out[field])
            else:
                raise CWLError(f"step {_name(step_tool)}: its tool did not produce output "
                               f"{field!r}")
        result[oid] = values[0] if dims is None else nest(values, dims)
    return result
