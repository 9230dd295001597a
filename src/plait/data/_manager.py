"""DataManager: puts the staging of a task's files into the task graph at submit.

    app call ─▶ kernel.submit ─▶ DataManager.stage_task(label, func, args, kwargs, app_fu)
        each File / DataFuture argument ─▶ first provider that can_stage_in ─▶ stage_in
            (a staging task in the graph, or None) + replace_task (in-task wrapper)
        each outputs File, File stdout/stderr ─▶ first provider that can_stage_out
            ─▶ stage_out (a future the output DataFuture waits on) + replace_task_stage_out

The kernel calls ``stage_task`` only for tasks that have a File or DataFuture argument or
run on a sandboxed executor (``involves``), so tasks without files pay one scan of their
arguments. Providers get fresh copies of each File; the user's File never changes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait.data._errors import NoStagingProvider
from plait.data._files import File
from plait.data._futures import DataFuture
from plait.data._intask import PLAN_KWARG, Mover, StagingPlan, run_in_task

if TYPE_CHECKING:
    from plait.data._staging import Staging

log = logging.getLogger(__name__)

INHIBIT_KWARG = "_parsl_staging_inhibit"
_FILES = (File, DataFuture)
CLAIMS = 65536  # local paths remembered per run to keep two URLs from sharing one


def involves(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a task has anything to stage: a File or DataFuture argument, keyword value,
    ``inputs`` or ``outputs`` entry. Staging tasks themselves (``_parsl_staging_inhibit``)
    have nothing."""
    if kwargs and kwargs.get(INHIBIT_KWARG):
        return False
    for a in args:
        if isinstance(a, _FILES):
            return True
    if not kwargs:
        return False
    for v in kwargs.values():
        if isinstance(v, _FILES):
            return True
    for key in ("inputs", "outputs"):
        for v in kwargs.get(key) or ():
            if isinstance(v, _FILES):
                return True
    return False


@dataclass(slots=True)
class StagedTask:
    """What the kernel submits instead: the possibly wrapped function, the rewritten
    arguments, and the output futures the AppFuture exposes."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outputs: list[DataFuture] = field(default_factory=list)
    stdout: DataFuture | None = None
    stderr: DataFuture | None = None
    ignore_for_cache: tuple[str, ...] = ()


class _Rewrapped(DataFuture):
    """A DataFuture around the clean copy of another's File, made at submit. If the File
    its producer completes with names another URL by then (a placeholder filled in when the
    output's path became known, as CWL outputs are), the copy follows it."""

    __slots__ = ()

    def _parent_done(self, parent: Any) -> None:
        if not parent.cancelled() and parent.exception() is None:
            done = parent.result()
            if isinstance(done, File) and done.url != self.file_obj.url:
                local_path = self.file_obj.local_path
                File.__init__(self.file_obj, done.url)
                self.file_obj.local_path = local_path
        super()._parent_done(parent)


class DataManager:
    """Staging for one kernel (Parsl's ``DataManager``; its methods keep Parsl's names).

    Args:
        dfk: the kernel whose executors' ``storage_access`` lists are used.
    """

    def __init__(self, dfk: Any) -> None:
        self.dfk = dfk
        self._local = threading.local()  # the plan of the task being staged, per thread
        self._claims: OrderedDict[str, str] = OrderedDict()  # local path -> URL staged there
        self._claims_lock = threading.Lock()

    # -- the kernel's one call ----------------------------------------------------------------
    def stage_task(self, executor: str, func: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any], app_fu: Future[Any], task_id: int) -> StagedTask:
        """Stage in every File argument and stage out every output File of one task.

        Raises what a provider raises (NoStagingProvider when none accepts a file), so the
        app call fails at once, as in Parsl.
        """
        staged = StagedTask(func, args, kwargs)
        plan = self._local.plan = StagingPlan(task_id)
        self._local.app_fu = app_fu
        try:
            if kwargs.get(INHIBIT_KWARG):  # a staging task (in a sandboxed executor)
                tid = getattr(app_fu, "tid", None)
                staged.outputs = [DataFuture(app_fu, f, tid) for f in kwargs.get("outputs")
                                  or () if isinstance(f, File)]
            else:
                self._stage_inputs(staged, executor)
                self._stage_outputs(staged, executor, app_fu)
        finally:
            self._local.plan = self._local.app_fu = None
        executor_obj = self.dfk.executors.get(executor)
        plan.sandbox = bool(getattr(executor_obj, "sandbox", False))
        plan.working_dir = getattr(executor_obj, "working_dir", None)
        if plan:
            staged.kwargs[PLAN_KWARG] = plan
            staged.func = run_in_task(staged.func)
            staged.ignore_for_cache = (PLAN_KWARG,)
        return staged

    def claim(self, path: str, url: str) -> str:
        """The local path ``url`` is staged at: ``path``, unless another URL of this run has
        it (two files of one name in one ``working_dir``); then ``dir/<hash of url>/name``."""
        with self._claims_lock:
            owner = self._claims.get(path)
            if owner is None or owner == url:
                self._claims[path] = url
                self._claims.move_to_end(path)
                if len(self._claims) > CLAIMS:
                    self._claims.popitem(last=False)
                return path
        import hashlib

        directory, name = os.path.split(path)
        other = os.path.join(directory, hashlib.sha256(url.encode()).hexdigest()[:12], name)
        log.info("%s and %s are both staged as %s: the second goes to %s (sandbox=True gives "
                 "each task a directory of its own)", owner, url, path, other)
        return other

    def when_done(self, callback: Callable[[], None]) -> bool:
        """For plait's providers: call ``callback()`` once the task being staged has
        finished, after its last try (to remove what only it needed); False outside
        stage_task."""
        app_fu = getattr(self._local, "app_fu", None)
        if app_fu is None:
            return False
        app_fu.add_done_callback(lambda _: callback())
        return True

    def plan_in_task(self, provider: Mover, file: File, direction: str) -> bool:
        """For plait's providers: add ``file`` to the in-task staging plan of the task being
        staged (one wrapper per app, the plan rides in a kwarg); False outside stage_task.
        ``direction`` is "in", "out", or "parent" (create the output's directory only)."""
        plan = getattr(self._local, "plan", None)
        if plan is None:
            return False
        if direction == "parent":  # only make the directory the app writes ``file`` in
            plan.parents.append(file)
        else:
            entry = (provider, file, file.local_path or file.filename)
            (plan.ins if direction == "in" else plan.outs).append(entry)
        return True

    def _stage_inputs(self, staged: StagedTask, executor: str) -> None:
        func, kwargs = staged.func, staged.kwargs
        inputs = kwargs.get("inputs")
        if inputs:
            inputs = kwargs["inputs"] = list(inputs)
            for i, item in enumerate(inputs):
                inputs[i], func = self.optionally_stage_in(item, func, executor)
        for key, value in kwargs.items():
            if key not in ("stdout", "stderr", "inputs", "outputs"):
                kwargs[key], func = self.optionally_stage_in(value, func, executor)
        args = list(staged.args)
        for i, item in enumerate(args):
            args[i], func = self.optionally_stage_in(item, func, executor)
        staged.func, staged.args = func, tuple(args)

    def _stage_outputs(self, staged: StagedTask, executor: str, app_fu: Future[Any]) -> None:
        kwargs = staged.kwargs
        tid = getattr(app_fu, "tid", None)
        outputs = kwargs.get("outputs")
        if outputs:
            outputs = kwargs["outputs"] = list(outputs)
            for i, item in enumerate(outputs):
                if isinstance(item, File):
                    outputs[i], df = self._stage_out_one(staged, item, executor, app_fu, tid)
                    staged.outputs.append(df)
        for stream in ("stdout", "stderr"):
            item = kwargs.get(stream)
            if isinstance(item, File):
                kwargs[stream], df = self._stage_out_one(staged, item, executor, app_fu, tid)
                setattr(staged, stream, df)

    def _stage_out_one(self, staged: StagedTask, file: File, executor: str,
                       app_fu: Future[Any], tid: int | None) -> tuple[File, DataFuture]:
        copy = file.cleancopy()
        done = self.stage_out(copy, executor, app_fu)
        # The DataFuture holds the user's File (local_path untouched, as in Parsl #1316)
        df = DataFuture(done if done is not None else app_fu, file, tid)
        staged.func = self.replace_task_stage_out(copy, staged.func, executor)
        return copy, df

    # -- Parsl's DataManager methods ------------------------------------------------------------
    def storage_access(self, executor: str) -> Sequence[Staging]:
        """The providers of ``executor``: its ``storage_access``, else ``default_staging``."""
        providers = getattr(self.dfk.executors.get(executor), "storage_access", None)
        if providers is None:
            from plait.data._defaults import default_staging

            return default_staging
        return providers

    def optionally_stage_in(self, input: Any, func: Callable[..., Any],
                            executor: str) -> tuple[Any, Callable[..., Any]]:
        """Stage ``input`` in if it is a File or DataFuture; return (replacement, func)."""
        if isinstance(input, DataFuture):
            file = input.file_obj.cleancopy()
            # completes with the original, but hands the task the copy staging may change
            input = _Rewrapped(input, file, input.tid)
        elif isinstance(input, File):
            file = input = input.cleancopy()
        else:
            return input, func
        replacement = self.stage_in(file, input, executor)
        return replacement, self.replace_task(file, func, executor)

    def stage_in(self, file: File, input: Any, executor: str) -> Any:
        """Ask the first provider that accepts ``file`` to stage it in; return what the task
        gets instead of ``input`` (a DataFuture to wait for, or ``input``)."""
        parent = input if isinstance(input, DataFuture) else None
        provider = self._provider(file, executor, "in")
        staging_fut = provider.stage_in(self, executor, file, parent_fut=parent)
        return staging_fut if staging_fut else input

    def replace_task(self, file: File, func: Callable[..., Any],
                     executor: str) -> Callable[..., Any]:
        """Let the provider that stages ``file`` in wrap ``func`` (in-task staging)."""
        provider = self._provider(file, executor, "in")
        return provider.replace_task(self, executor, file, func) or func

    def stage_out(self, file: File, executor: str, app_fu: Future[Any]) -> Future[Any] | None:
        """Ask the first provider that accepts ``file`` to stage it out; return the future
        that completes when it is out, or None (it is out when the task is done)."""
        return self._provider(file, executor, "out").stage_out(self, executor, file, app_fu)

    def replace_task_stage_out(self, file: File, func: Callable[..., Any],
                               executor: str) -> Callable[..., Any]:
        """Let the provider that stages ``file`` out wrap ``func`` (in-task staging)."""
        provider = self._provider(file, executor, "out")
        return provider.replace_task_stage_out(self, executor, file, func) or func

    def _provider(self, file: File, executor: str, direction: str) -> Staging:
        providers = self.storage_access(executor)
        for provider in providers:
            accepts = provider.can_stage_in if direction == "in" else provider.can_stage_out
            if accepts(file):
                return provider
        schemes = sorted({s for p in providers for s in p.schemes}) or [
            type(p).__name__ for p in providers] or ["nothing (storage_access=[])"]
        raise NoStagingProvider(file.url, executor, direction, schemes)
