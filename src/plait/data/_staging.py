"""Staging: the interface of a staging provider (Parsl's ``parsl.data_provider.staging``)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from plait.data._files import File
    from plait.data._futures import DataFuture


class DataManagerAPI(Protocol):
    """What a staging provider may use of the DataManager it is handed: the kernel (to
    submit staging tasks with ``dm.dfk.submit`` or ``python_app(data_flow_kernel=dm.dfk)``)
    and, for plait's providers, the in-task plan of the task being staged, the local
    paths already taken by other URLs, and a callback when the task being staged is done."""

    dfk: Any

    def plan_in_task(self, provider: Any, file: File, direction: str) -> bool: ...

    def claim(self, path: str, url: str) -> str: ...

    def when_done(self, callback: Callable[[], None]) -> bool: ...


class Staging:
    """A staging provider: moves the files of a task to and from where the task runs.

    For each File (or DataFuture) argument of a task, the kernel asks the executor's
    ``storage_access`` providers in order whether they ``can_stage_in`` it; the first that
    accepts gets ``stage_in`` and ``replace_task``. Each ``outputs`` File (and a File given
    as ``stdout``/``stderr``) goes the same way through ``can_stage_out``, ``stage_out``
    and ``replace_task_stage_out``. Every method receives a fresh copy of the File, which
    it may change (usually ``local_path``) without touching the user's File.

    The default implementation accepts nothing and does nothing, so a subclass overrides
    only what it needs, exactly as in Parsl.

    plait addition: ``schemes`` lists the URL schemes a provider handles, for the error
    that names what an executor can stage.
    """

    schemes: ClassVar[tuple[str, ...]] = ()

    def can_stage_in(self, file: File) -> bool:
        """Whether this provider stages ``file`` in (usually decided by its scheme)."""
        return False

    def can_stage_out(self, file: File) -> bool:
        """Whether this provider stages ``file`` out."""
        return False

    def stage_in(self, dm: DataManagerAPI, executor: str, file: File,
                 parent_fut: Future[Any] | None) -> DataFuture | None:
        """Prepare stage-in, possibly launching tasks that must finish first.

        Return a DataFuture to make the task wait for it (it replaces the task's argument,
        and its result should be ``file``), or None to hand the task ``file`` directly.
        ``parent_fut`` is the future producing the file, if it is a task's output.
        """
        return None

    def stage_out(self, dm: DataManagerAPI, executor: str, file: File,
                  app_fu: Future[Any]) -> Future[Any] | None:
        """Prepare stage-out. Called *before* the task runs: work that must follow the task
        depends on ``app_fu``. Return a Future that completes when the file is out (the
        output DataFuture then waits for it), or None to complete with the task."""
        return None

    def replace_task(self, dm: DataManagerAPI, executor: str, file: File,
                     func: Callable[..., Any]) -> Callable[..., Any] | None:
        """For in-task stage-in: return ``func`` wrapped in staging code, or None."""
        return None

    def replace_task_stage_out(self, dm: DataManagerAPI, executor: str, file: File,
                               func: Callable[..., Any]) -> Callable[..., Any] | None:
        """For in-task stage-out: return ``func`` wrapped in staging code, or None."""
        return None
