"""In-task staging and sandboxes: what runs on the worker around the app function.

    worker: run_staged(func, *args, _plait_staging=plan, **kwargs)
        sandbox (fresh dir under working_dir/sandbox) ─▶ fetch inputs into it
        ─▶ func (cwd = sandbox) ─▶ push outputs from it ─▶ remove it (kept on failure)

One wrapper per app function (a partial, so it pickles once per app); the per-task plan
rides in a keyword argument, pickled with the arguments so its Files are the very objects
the app receives. A sandbox becomes the process's cwd only when the task has its process
to itself (a pilot worker); on threads it is passed to bash apps as their cwd instead.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from plait.data._atomic import make_parent
from plait.data._cwd import TASK_CWD
from plait.data._files import File

log = logging.getLogger(__name__)
PLAN_KWARG = "_plait_staging"
PARALLEL = 8  # transfers at once for one task with many files


class Mover(Protocol):
    """A provider that moves files where the task runs (TransferStaging is one)."""

    def fetch_here(self, file: File) -> bool: ...

    def push_here(self, file: File) -> None: ...


@dataclass(slots=True)
class StagingPlan:
    """The in-task staging of one task: files to fetch before and push after its app."""

    task_id: int
    # (provider, file, where the task sees it: relative names are in the sandbox)
    ins: list[tuple[Mover, File, str]] = field(default_factory=list)
    outs: list[tuple[Mover, File, str]] = field(default_factory=list)
    parents: list[File] = field(default_factory=list)  # outputs staged out by other tasks
    sandbox: bool = False
    working_dir: str | None = None

    def __bool__(self) -> bool:
        return bool(self.ins or self.outs or self.parents or self.sandbox)

    def run(self, func: Callable[..., Any], args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Any:
        """Fetch, call ``func(*args, **kwargs)``, push; inside a sandbox if asked."""
        if not self.sandbox:
            self._fetch_all()
            result = func(*args, **kwargs)
            self._push_all()
            return result
        box = self._make_sandbox()
        _absolute_local_paths(args, kwargs)
        for _, file, path in (*self.ins, *self.outs):  # again on each try: a fresh sandbox
            file.local_path = os.path.join(box, path)
        try:
            self._fetch_all()
            with _working_in(box):
                result = func(*args, **kwargs)
            self._push_all()
        except BaseException as exc:
            note = f"plait: the sandbox of task {self.task_id}, {box}, was kept for inspection"
            if hasattr(exc, "add_note"):
                exc.add_note(note)
            log.info("%s (%s)", note, type(exc).__name__)
            raise
        import shutil

        shutil.rmtree(box, ignore_errors=True)
        return result

    def _make_sandbox(self) -> str:
        import tempfile

        root = os.path.join(os.path.abspath(self.working_dir or "."), "sandbox")
        os.makedirs(root, exist_ok=True)
        return tempfile.mkdtemp(prefix=f"task-{self.task_id}-", dir=root)

    def _fetch_all(self) -> None:
        _each([partial(provider.fetch_here, file) for provider, file, _ in self.ins])
        # the app writes its outputs where they will be pushed from
        for file in (*(f for _, f, _ in self.outs), *self.parents):
            make_parent(file.filepath)

    def _push_all(self) -> None:
        _each([partial(provider.push_here, file) for provider, file, _ in self.outs])


def _each(transfers: list[Callable[[], object]]) -> None:
    """Run a task's transfers, up to PARALLEL at once; the first failure is raised once
    all have ended (none is left running behind the task)."""
    if len(transfers) <= 1:
        for transfer in transfers:
            transfer()
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(PARALLEL, len(transfers)),
                            thread_name_prefix="plait-staging") as pool:
        futures = [pool.submit(transfer) for transfer in transfers]
    for fut in futures:
        fut.result()  # all are done: the pool was shut down, waiting


def run_staged(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The wrapper every in-task staged app runs as; its plan is in ``_plait_staging``."""
    plan: StagingPlan = kwargs.pop(PLAN_KWARG)
    return plan.run(func, args, kwargs)


_WRAPPERS: weakref.WeakKeyDictionary[Any, partial[Any]] = weakref.WeakKeyDictionary()
_WRAPPERS_LOCK = threading.Lock()


def run_in_task(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` wrapped by :func:`run_staged`: the same wrapper object for every task of an
    app, so serializers send it once and workers keep one copy."""
    try:
        wrapper = _WRAPPERS.get(func)
    except TypeError:  # not weak-referenceable: a wrapper per task
        return partial(run_staged, func)
    if wrapper is None:
        with _WRAPPERS_LOCK:
            wrapper = _WRAPPERS.setdefault(func, partial(run_staged, func))
    return wrapper


def _absolute_local_paths(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Pin relative local Files to the directory the worker started in, so a sandbox does
    not change what ``File("in.txt")`` names."""
    here = os.getcwd()
    for f in _files_in(args, kwargs):
        if f.scheme == "file" and f.local_path is None and not os.path.isabs(f.path):
            f.local_path = os.path.join(here, f.path)


def _files_in(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[File]:
    for value in (*args, *kwargs.values(), *(kwargs.get("inputs") or ()),
                  *(kwargs.get("outputs") or ())):
        if isinstance(value, File):
            yield value


@contextmanager
def _working_in(box: str) -> Iterator[None]:
    """Run in ``box``: chdir when this thread is the process's only one (chdir is
    process-wide), else tell bash apps through TASK_CWD."""
    token = TASK_CWD.set(box)
    alone = threading.active_count() == 1
    previous = os.getcwd() if alone else None
    if previous is not None:
        os.chdir(box)
    try:
        yield
    finally:
        if previous is not None:
            os.chdir(previous)
        TASK_CWD.reset(token)
