"""TransferStaging: what plait's bundled providers share — where staging runs, the cache,
retries with backoff, and whole-file-or-nothing placement.

    where="worker"     in-task: the worker fetches before the app and pushes after it, in
                       the task's sandbox if it has one (no shared file system needed)
    where="pilot"      a staging task of its own on the task's executor (the file lands in
                       the executor's working_dir, on the cluster's shared file system)
    where="submitter"  a staging task on the kernel's internal threads (the submitting
                       machine shares its file system with the workers)

A subclass supplies the protocol: ``fetch(file, part, state)`` downloads into ``part`` and
returns the validator, ``is_current(file, meta)`` asks the server whether a cached copy
still matches, ``push(src, file)`` uploads. Each raises ``plait.data._retries.Transient``
(worth another try) or ``Permanent``; an OSError is the local side and is not retried.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from plait._validate import check_bool, check_int, check_number, check_str, fail
from plait.data._atomic import make_parent, write_whole
from plait.data._errors import StagingError, redact
from plait.data._files import File
from plait.data._retries import Permanent, local_failure, with_retries
from plait.data._staging import DataManagerAPI, Staging

if TYPE_CHECKING:
    from plait.data._futures import DataFuture

Where = Literal["worker", "pilot", "submitter"]
WHERE: tuple[Where, ...] = ("worker", "pilot", "submitter")
INTERNAL_EXECUTOR = "_parsl_internal"  # the kernel's own threads (Parsl's label)
log = logging.getLogger(__name__)


class TransferStaging(Staging):
    """Base of plait's bundled providers (see the module docstring).

    Args:
        where: ``"worker"``, ``"pilot"`` or ``"submitter"``: where transfers run.
        cache: keep fetched files in the staging cache of the machine that fetched them.
        cache_dir: the cache's directory there (default ``$PLAIT_CACHE_DIR``, else
            ``~/.cache/plait/staging``; expanded on that machine).
        cache_size: bytes the cache may hold; least recently used entries go first.
        cache_max_age: seconds after a check during which a cached file is used without
            asking the server (0: ask every time, with a conditional request).
        attempts: tries per transfer before the task fails.
        backoff: seconds before the second try; doubled each time, with jitter.
        timeout: seconds a connection may stay silent.
    """

    schemes: ClassVar[tuple[str, ...]] = ()
    stages_out: ClassVar[bool] = True
    cacheable: ClassVar[bool] = True

    def __init__(self, where: Where = "worker", *, cache: bool = True,
                 cache_dir: str | None = None, cache_size: int = 10 * 2**30,
                 cache_max_age: float = 0.0, attempts: int = 4, backoff: float = 0.5,
                 timeout: float = 60.0) -> None:
        owner = type(self).__name__
        if not (isinstance(where, str) and where in WHERE):
            raise fail("where", where, "'worker', 'pilot' or 'submitter'", owner)
        check_bool("cache", cache, owner)
        check_str("cache_dir", cache_dir, none=True, owner=owner)
        check_int("cache_size", cache_size, low=0, owner=owner)
        check_number("cache_max_age", cache_max_age, low=0, inf=True, owner=owner,
                     kind="a number of seconds")
        check_int("attempts", attempts, low=1, owner=owner)
        check_number("backoff", backoff, low=0, owner=owner, kind="a number of seconds")
        check_number("timeout", timeout, low=0, strict=True, owner=owner,
                     kind="a number of seconds")
        self.where: Where = where
        self.cache, self.cache_dir, self.cache_size = cache, cache_dir, cache_size
        self.cache_max_age, self.attempts = float(cache_max_age), int(attempts)
        self.backoff, self.timeout = float(backoff), float(timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(where={self.where!r})"

    # -- the protocol, in subclasses ------------------------------------------------------------
    def fetch(self, file: File, part: str, state: dict[str, Any]) -> dict[str, Any] | None:
        """One try at downloading ``file`` into the path ``part``; return its validator
        (etag, last_modified, size). ``state`` persists across the tries of one transfer
        (for resuming where the last try stopped); ``state["cached"]`` says whether the
        validator will be kept (a protocol that needs a request to get it may skip it)."""
        raise Permanent(f"{type(self).__name__} cannot fetch files")

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        """Whether the remote file still matches a cached copy with validator ``meta``."""
        return False

    def push(self, src: str, file: File) -> None:
        """Upload the local file ``src`` to ``file``'s URL, so it appears whole or not."""
        raise Permanent(f"{type(self).__name__} cannot stage files out")

    def route(self, file: File, direction: str) -> str:
        """How ``file`` travels, for the log line that records each staging choice: by
        default straight between its server and where the transfer runs."""
        host = file.netloc.rpartition("@")[2]  # never the user:password part
        return f"{'from' if direction == 'in' else 'to'} {host or 'the local disk'}"

    def log_choice(self, executor: str, file: File, direction: str) -> None:
        """Log (INFO) where the staging of ``file`` runs and which way it travels."""
        if log.isEnabledFor(logging.INFO):
            place = {"worker": "on the worker, in the task",
                     "pilot": f"in a staging task on executor {executor}",
                     "submitter": "in a staging task on the submitting machine"}[self.where]
            log.info("staging %s %s for executor %s: %s, %s", direction, redact(file.url),
                     executor, place, self.route(file, direction))

    # -- Staging --------------------------------------------------------------------------------
    def can_stage_in(self, file: File) -> bool:
        return file.scheme in self.schemes

    def can_stage_out(self, file: File) -> bool:
        return self.stages_out and file.scheme in self.schemes

    def stage_in(self, dm: DataManagerAPI, executor: str, file: File,
                 parent_fut: Future[Any] | None) -> DataFuture | None:
        file.local_path = self.local_path_for(dm, executor, file)
        self.log_choice(executor, file, "in")
        if self.where == "worker":
            return None
        fut = dm.dfk.submit(stage_in_task, (self, file), {
            "parent_fut": parent_fut, "outputs": [file], "_parsl_staging_inhibit": "in"},
            func_name=f"stage_in_{self.schemes[0]}", executors=[self._label(executor)])
        outputs: list[DataFuture] = fut.outputs
        return outputs[0]

    def replace_task(self, dm: DataManagerAPI, executor: str, file: File,
                     func: Callable[..., Any]) -> Callable[..., Any] | None:
        if self.where != "worker" or dm.plan_in_task(self, file, "in"):
            return None
        return partial(fetch_then_run, self, file, func)  # a DataManager outside the kernel

    def stage_out(self, dm: DataManagerAPI, executor: str, file: File,
                  app_fu: Future[Any]) -> Future[Any] | None:
        file.local_path = self.local_path_for(dm, executor, file)
        self.log_choice(executor, file, "out")
        if self.where == "worker":
            return None
        dm.plan_in_task(self, file, "parent")
        return dm.dfk.submit(stage_out_task, (self, file, app_fu), {
            "inputs": [file], "_parsl_staging_inhibit": "out"},
            func_name=f"stage_out_{self.schemes[0]}", executors=[self._label(executor)])

    def replace_task_stage_out(self, dm: DataManagerAPI, executor: str, file: File,
                               func: Callable[..., Any]) -> Callable[..., Any] | None:
        if self.where != "worker" or dm.plan_in_task(self, file, "out"):
            return None
        return partial(run_then_push, self, file, func)

    def _label(self, executor: str) -> str:
        return executor if self.where == "pilot" else INTERNAL_EXECUTOR

    def local_path_for(self, dm: DataManagerAPI, executor: str, file: File) -> str:
        """Where the task sees the file: a bare name in a sandbox (resolved on the worker),
        else ``working_dir/filename`` (Parsl's choice) or the bare name — in a directory of
        its own if another URL of the run already has that path."""
        executor_obj = dm.dfk.executors.get(executor)
        if self.where == "worker" and getattr(executor_obj, "sandbox", False):
            return file.filename
        working_dir = getattr(executor_obj, "working_dir", None)
        path = os.path.join(working_dir, file.filename) if working_dir else file.filename
        return dm.claim(path, file.url)

    # -- transfers, wherever the staging runs -------------------------------------------------
    def fetch_here(self, file: File) -> bool:
        """Fetch ``file`` to its ``local_path`` on this machine; return whether the cache
        had it."""
        dest = file.filepath
        if not (self.cache and self.cacheable):
            try:
                write_whole(dest, lambda part: self._fetch(file, part, cached=False))
            except OSError as exc:  # the destination itself: not writable, disk full
                raise StagingError(file.url, "in", local_failure(exc), 1, dest) from None
            return False
        from plait.data._cache import Cache, default_dir

        directory = os.path.expanduser(self.cache_dir or default_dir())
        cache = Cache(directory, self.cache_size, self.cache_max_age)
        try:
            return cache.get(cache_key(file), dest,
                             lambda part: self._fetch(file, part, cached=True),
                             lambda meta: self.is_current(file, meta))
        except OSError as exc:
            raise StagingError(file.url, "in", f"{local_failure(exc)}; the staging cache is "
                               f"{directory} (set cache_dir=, or cache=False)", 1, dest) \
                from None

    def _fetch(self, file: File, part: str, cached: bool) -> dict[str, Any] | None:
        make_parent(part)
        state: dict[str, Any] = {"cached": cached}  # a validator is needed only if cached
        return with_retries(file.url, "in", file.local_path, self.attempts, self.backoff,
                            lambda n: self.fetch(file, part, state))

    def push_here(self, file: File) -> None:
        """Push the file at ``file.local_path`` on this machine to its URL."""
        src = file.filepath
        if not os.path.exists(src):
            raise StagingError(file.url, "out", f"the task did not create {src}", 1, src)
        with_retries(file.url, "out", src, self.attempts, self.backoff,
                     lambda n: self.push(src, file))


def separate_task_where(where: Any, in_task_class: str) -> Where:
    """Check the ``where`` of a SeparateTask provider: "pilot" or "submitter"."""
    if not (isinstance(where, str) and where in ("pilot", "submitter")):
        raise fail("where", where, "'pilot' or 'submitter'", hint=f"Use {in_task_class} "
                   "to transfer on the worker.")
    return where  # type: ignore[return-value]


def cache_key(file: File) -> str:
    """The cache key of a file: its URL less any fragment (a checksum is checked anyway)."""
    return file.url.partition("#")[0]


def fetch_then_run(provider: TransferStaging, file: File, func: Callable[..., Any],
                   *args: Any, **kwargs: Any) -> Any:
    """A per-task in-task stage-in wrapper, for DataManagers driven outside the kernel."""
    provider.fetch_here(file)
    return func(*args, **kwargs)


def run_then_push(provider: TransferStaging, file: File, func: Callable[..., Any],
                  *args: Any, **kwargs: Any) -> Any:
    """A per-task in-task stage-out wrapper, for DataManagers driven outside the kernel."""
    result = func(*args, **kwargs)
    provider.push_here(file)
    return result


def stage_in_task(provider: TransferStaging, file: File, parent_fut: object = None,
                  outputs: object = (), _parsl_staging_inhibit: object = True) -> None:
    """The body of a separate stage-in task."""
    provider.fetch_here(file)


def stage_out_task(provider: TransferStaging, file: File, app_result: object = None,
                   inputs: object = (), _parsl_staging_inhibit: object = True) -> None:
    """The body of a separate stage-out task (it runs after the app: ``app_result``)."""
    provider.push_here(file)
