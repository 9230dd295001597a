"""CWL documents as plait apps: ``load_tool`` / ``load_workflow`` and the CWLApp they return.

    app = load_tool("wc.cwl")
    fut = app(infile=File("a.txt"))      # AppFuture; keyword inputs: values, Files, futures
    fut.result()                         # the CWL output object (File values as CWL dicts)
    app.files(fut)["report"]             # a DataFuture of the output File, for Python apps

A call waits (in the dataflow, not in the caller) for the futures among its inputs, then
runs the process on plait's engine: a tool as one task, a workflow as one task per step and
per scattered job. Outputs are moved from the jobs' directories into the call's output
directory (``outdir=``, default ``<run_dir>/cwl/<name>-<n>/outputs``).
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from plait.cwl._errors import CWLError, CWLInputError, CWLValidationError
from plait.cwl._jobs import JobSettings
from plait.data import DataFuture, File


def load_tool(path: str | os.PathLike[str], *, executors: str | Sequence[str] = "all",
              data_flow_kernel: Any = None,
              cachedir: str | os.PathLike[str] | None = None) -> CWLApp:
    """Load a CWL CommandLineTool, ExpressionTool or Workflow as an app.

    Args:
        path: the ``.cwl`` document (a path or URL; ``doc.cwl#id`` picks one of a
            ``$graph``).
        executors: labels of the executors its jobs may run on.
        data_flow_kernel: the kernel to submit to (default: the loaded one, at call time).
        cachedir: keep each job's outputs here and reuse them when the same tool runs on
            the same inputs again, in this run or a later one (cwltool's ``--cachedir``;
            a tool with ``WorkReuse: {enableReuse: false}`` always runs).

    Raises:
        CWLValidationError: the document is invalid; the message has file:line:col.
    """
    return CWLApp(_load(path), os.fspath(path), executors, data_flow_kernel, cachedir)


def load_workflow(path: str | os.PathLike[str], *, executors: str | Sequence[str] = "all",
                  data_flow_kernel: Any = None,
                  cachedir: str | os.PathLike[str] | None = None) -> CWLApp:
    """Load a CWL Workflow as an app; each step (and scattered job) runs as its own task.

    Arguments as for :func:`load_tool`. Raises CWLError if the document is not a Workflow.
    """
    process = _load(path)
    if process.tool.get("class") != "Workflow":
        raise CWLError(f"{os.fspath(path)} is a {process.tool.get('class')}, not a Workflow: "
                       "use plait.cwl.load_tool for it")
    return CWLApp(process, os.fspath(path), executors, data_flow_kernel, cachedir)


def _load(path: str | os.PathLike[str]) -> Any:
    from cwltool.context import LoadingContext
    from cwltool.errors import WorkflowException
    from cwltool.load_tool import load_tool as cwl_load_tool
    from cwltool.workflow import default_make_tool
    from schema_salad.exceptions import ValidationException

    from plait.cwl import _schemas
    from plait.cwl._javascript import use_tracked_engine

    _quiet_cwltool()
    use_tracked_engine()  # a Node.js process loading starts is stopped with the kernel
    _schemas.preload()
    text = os.fspath(path)
    # jshint lint of expressions only warns and costs seconds per document: skip it here
    # (`plait cwl run --validate` or cwltool --validate still lint).
    context = LoadingContext({"relax_path_checks": True, "disable_js_validation": True})
    context.construct_tool_object = default_make_tool
    location = text if "://" in text else os.path.abspath(text)
    if "://" not in text and not os.path.exists(location.split("#", 1)[0]):
        raise CWLError(f"{text}: no such CWL document")
    try:
        return cwl_load_tool(location, context)
    except (ValidationException, WorkflowException) as exc:
        raise CWLValidationError(text, str(exc)) from None


def _quiet_cwltool() -> None:
    """cwltool logs every job at INFO to stderr; as a library, only warnings are shown
    unless the application set the ``cwltool`` logger's level itself."""
    import logging

    from cwltool.loghandler import _logger

    if _logger.level == logging.INFO:  # cwltool's own default
        _logger.setLevel(logging.WARNING)


_call_numbers = itertools.count()


class CWLApp:
    """A CWL process as an app: call it with keyword inputs to get an AppFuture."""

    def __init__(self, process: Any, source: str, executors: str | Sequence[str],
                 data_flow_kernel: Any, cachedir: str | os.PathLike[str] | None = None) -> None:
        from cwltool.process import shortname

        self.process, self.source = process, source
        self.cachedir = os.path.abspath(cachedir) if cachedir is not None else None
        self.executors, self.data_flow_kernel = executors, data_flow_kernel
        self.__name__ = shortname(process.tool["id"]).removesuffix(".cwl") or "cwl"
        self._inputs = {shortname(i["id"]): i for i in process.tool["inputs"]}
        self.outputs = [shortname(o["id"]) for o in process.tool["outputs"]]
        #: outputs of type File: each gets a fixed alias path per call (see ``files``)
        self.file_outputs = [shortname(o["id"]) for o in process.tool["outputs"]
                             if o.get("type") == "File"]
        # per kernel (by run id, which is never reused): the call's two join apps, and the
        # tools' apps (see Engine); entries of cleaned-up kernels are dropped
        self._per_kernel: dict[str, tuple[Any, Any, dict[int, Any]]] = {}
        self._calls: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    @property
    def inputs(self) -> dict[str, str]:
        """Input names and their CWL types (an optional one reads ``null | type``)."""
        from plait.cwl._engine import _type_name

        return {name: _type_name(i.get("type")) for name, i in self._inputs.items()}

    def __call__(self, *, outdir: str | os.PathLike[str] | None = None,
                 **inputs: Any) -> Any:
        """Submit the process on ``inputs``; returns an AppFuture of its output object.

        The future fails with the tool's own error (e.g. CWLStepFailed), not a chain of
        plait's propagated failures; a failed input future gives DependencyError.

        Raises:
            CWLInputError: an input is unknown, or a required one is missing.
        """
        self._check(inputs)
        from plait.dataflow.dflow import DataFlowKernelLoader

        dfk = self.data_flow_kernel or DataFlowKernelLoader.dfk()
        start, finish, _ = self._apps_for(dfk)
        futures: list[Future[Any]] = []
        template = _extract_futures(inputs, futures)
        call_dir = os.path.join(dfk.run_dir, "cwl", f"{self.__name__}-{next(_call_numbers)}")
        final = (os.path.abspath(outdir) if outdir is not None
                 else os.path.join(call_dir, "outputs"))
        # `outcome` receives whichever future decides the call: the engine's (its outputs or
        # the tool's error), or the start task's own if that failed first (bad inputs).
        outcome: Future[Any] = Future()
        started = start(self, dfk, template, call_dir, _Hidden(outcome), *futures)
        started.add_done_callback(functools.partial(_settle, outcome))
        result = finish(outcome, final, call_dir)
        self._calls[result] = call_dir
        return result

    def _check(self, inputs: dict[str, Any]) -> None:
        unknown = sorted(set(inputs) - set(self._inputs))
        if unknown:
            raise CWLInputError(self.__name__, unknown[0], "unknown",
                                f"is not an input of {self.source} (its inputs: "
                                f"{', '.join(self._inputs) or 'none'})")
        from plait.cwl._engine import check_required

        check_required(self.process, {k: True for k, v in inputs.items() if v is not None})

    def engine(self, dfk: Any, call_dir: str) -> Any:
        """An engine for one call: its jobs' directories go under ``call_dir``."""
        from cwltool.context import RuntimeContext

        from plait.cwl._containers import check_containers, container_engine
        from plait.cwl._engine import Engine

        context = RuntimeContext({"basedir": os.getcwd(), "toplevel": True})
        context.tmp_outdir_prefix = os.path.join(call_dir, "jobs", "job-")
        context.tmpdir_prefix = os.path.join(call_dir, "tmp", "tmp-")
        if self.cachedir is not None:
            os.makedirs(self.cachedir, exist_ok=True)
            context.cachedir = self.cachedir
        for prefix in (context.tmp_outdir_prefix, context.tmpdir_prefix):
            os.makedirs(os.path.dirname(prefix), exist_ok=True)
        engine_name = container_engine(context, self.process)
        context.use_container = engine_name is not None
        check_containers(self.process, engine_name)
        settings = JobSettings.from_runtime_context(context, os.path.join(call_dir, "logs"))
        return Engine(dfk, context, settings, self.executors, self._apps_for(dfk)[2])

    def _apps_for(self, dfk: Any) -> tuple[Any, Any, dict[int, Any]]:
        from plait.app.app import join_app

        apps = self._per_kernel.get(dfk.run_id)
        if apps is None:
            for run_id, (start, _, _) in list(self._per_kernel.items()):
                if start.data_flow_kernel.cleanup_called:
                    del self._per_kernel[run_id]
            apps = self._per_kernel[dfk.run_id] = (
                join_app(data_flow_kernel=dfk)(cwl_call),
                join_app(data_flow_kernel=dfk)(cwl_finish), {})
        return apps

    def files(self, future: Any) -> dict[str, DataFuture]:
        """DataFutures for the File outputs of one call of this app, by output name.

        Each names a path fixed at the call, ``<call dir>/files/<output name>``, which the
        call links to the output's final file when it completes (and fails if the call
        fails), so Python apps can take it in ``inputs=[...]`` and staging sees a path that
        is known up front. Only outputs of type ``File`` (not optional, not arrays) are
        included; for other CWL calls, pass ``future["name"]`` (the CWL File object).
        """
        call_dir = self._calls.get(future)
        if call_dir is None:
            raise CWLError(f"{future!r} is not the future of a call of {self!r}")
        return {name: DataFuture(future, File(os.path.join(call_dir, "files", name)),
                                 getattr(future, "tid", None))
                for name in self.file_outputs}

    def __repr__(self) -> str:
        return f"<CWLApp {self.__name__} from {self.source}>"


# -- Python values <-> CWL values -----------------------------------------------------------------
class _Slot:
    """Where the n-th future of a call's inputs goes, once it is done."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _extract_futures(value: Any, found: list[Future[Any]]) -> Any:
    if isinstance(value, Future):
        found.append(value)
        return _Slot(len(found) - 1)
    if isinstance(value, dict):
        return {k: _extract_futures(v, found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_extract_futures(v, found) for v in value]
    return value


def _fill(template: Any, values: Sequence[Any]) -> Any:
    if isinstance(template, _Slot):
        return values[template.index]
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def to_cwl(value: Any, param_type: Any = None) -> Any:
    """A Python input value as a CWL value: Files (and paths given for File inputs) as
    CWL File objects with absolute locations."""
    if isinstance(value, File):
        location = value.url if value.scheme != "file" else _file_uri(value.filepath)
        return {"class": "File", "location": location}
    if isinstance(value, (str, os.PathLike)) and _base_type(param_type) in ("File",
                                                                           "Directory"):
        return {"class": _base_type(param_type), "location": _file_uri(os.fspath(value))}
    if isinstance(value, dict) and value.get("class") in ("File", "Directory"):
        fixed = dict(value)
        if "location" not in fixed and "path" in fixed:
            fixed["location"] = _file_uri(fixed.pop("path"))
        elif "location" in fixed and "://" not in str(fixed["location"]):
            fixed["location"] = _file_uri(str(fixed["location"]))
        return fixed
    if isinstance(value, list):
        item_type = param_type.get("items") if isinstance(param_type, dict) else None
        return [to_cwl(v, item_type) for v in value]
    if isinstance(value, dict):
        return {k: to_cwl(v) for k, v in value.items()}
    return value


def _base_type(cwl_type: Any) -> Any:
    if isinstance(cwl_type, list):
        named = [t for t in cwl_type if t != "null"]
        return _base_type(named[0]) if len(named) == 1 else None
    return cwl_type


def _file_uri(path: str) -> str:
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


class _Hidden:
    """Carries a future into a task without making it a dependency of the task."""

    __slots__ = ("future",)

    def __init__(self, future: Future[Any]) -> None:
        self.future = future


def cwl_call(app: CWLApp, dfk: Any, template: Any, call_dir: str, outcome: _Hidden,
             *resolved: Any) -> Any:
    """The body of a call (internal thread): inputs are ready, submit the process."""
    values = _fill(template, resolved)
    job = {name: to_cwl(v, app._inputs[name].get("type")) for name, v in values.items()}
    engine = app.engine(dfk, call_dir)
    outputs = engine.run(app.process, job)
    outputs.add_done_callback(functools.partial(_settle, outcome.future, engine=engine))
    return outputs


_SETTLE_LOCK = threading.Lock()


def _settle(outcome: Future[Any], decided_by: Future[Any], engine: Any = None) -> None:
    with _SETTLE_LOCK:
        if outcome.done():
            return
        outcome.set_result((decided_by, engine))


def cwl_finish(decided: tuple[Future[Any], Any], final: str, call_dir: str) -> Future[Any]:
    """The last task of a call: raise the first job's own error, or move the outputs."""
    decided_by, engine = decided
    exc = decided_by.exception()
    if exc is not None:
        first = engine.first_failure if engine is not None else None
        raise first or getattr(exc, "root_cause", None) or exc
    return _done(relocate(final, call_dir, decided_by.result()))


def _done(value: Any) -> Future[Any]:
    fut: Future[Any] = Future()
    fut.set_result(value)
    return fut


def relocate(final: str, call_dir: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """Move a call's output files from its jobs' directories into ``final``."""
    import shutil

    from cwltool.mutation import MutationManager
    from cwltool.process import relocateOutputs
    from cwltool.stdfsaccess import StdFsAccess
    from cwltool.utils import visit_class

    from plait.cwl._relocation import RelocationMapper

    os.makedirs(final, exist_ok=True)
    jobs = os.path.join(call_dir, "jobs")
    moved = relocateOutputs(outputs, final, {jobs}, "move", StdFsAccess(""),
                            path_mapper=RelocationMapper)
    for leftover in ("jobs", "tmp"):  # intermediate files and staged inputs
        shutil.rmtree(os.path.join(call_dir, leftover), ignore_errors=True)
    visit_class(moved, ("File",), MutationManager().unset_generation)
    _add_paths(moved)
    _link_aliases(moved, os.path.join(call_dir, "files"))
    return dict(moved)


def _link_aliases(outputs: Mapping[str, Any], aliases: str) -> None:
    """``aliases/<name>`` for each single File output: a hard link (a copy across file
    systems), the path ``CWLApp.files`` promised before the call ran."""
    import shutil

    for name, value in outputs.items():
        if not (isinstance(value, dict) and value.get("class") == "File" and value.get("path")):
            continue
        os.makedirs(aliases, exist_ok=True)
        alias = os.path.join(aliases, name)
        try:
            os.link(value["path"], alias)
        except OSError:
            shutil.copyfile(value["path"], alias)


def _add_paths(value: Any) -> None:
    from schema_salad.ref_resolver import uri_file_path

    if isinstance(value, dict):
        if value.get("class") in ("File", "Directory") and str(
                value.get("location", "")).startswith("file://"):
            value["path"] = uri_file_path(value["location"])
        for v in value.values():
            _add_paths(v)
    elif isinstance(value, list):
        for v in value:
            _add_paths(v)


