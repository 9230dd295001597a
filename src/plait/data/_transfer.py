"""TransferStaging: what plait's bundled providers share — where staging runs, the cache,
retries with backoff, and whole-file-or-nothing placement.

    where="worker"     in-task: the worker fetches before the app and pushes after it, in
                       the task's sandbox if it has one (no shared file system needed)
    where="pilot"      a staging task of its own on the task's executor (the file lands in
                       the executor's working_dir, on the cluster's shared file system)
    where="submitter"  a staging task on the kernel's internal threads (the submitting
                       machine shares its file system with the workers)

A subclass supplies the protocol: ``fetch(file, part)`` downloads into ``part`` and returns
the validator, ``is_current(file, meta)`` asks the server whether a cached copy still
matches, ``push(src, file)`` uploads. Each raises Transient (worth retrying) or Permanent.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from plait._errors import ConfigurationError
from plait.data._atomic import make_parent, write_whole
from plait.data._errors import StagingError
from plait.data._files import File
from plait.data._staging import Staging

if TYPE_CHECKING:
    from plait.data._futures import DataFuture
    from plait.data._manager import DataManager

log = logging.getLogger(__name__)

Where = Literal["worker", "pilot", "submitter"]
WHERE: tuple[Where, ...] = ("worker", "pilot", "submitter")
INTERNAL_EXECUTOR = "_parsl_internal"  # the kernel's own threads (Parsl's label)
MAX_DELAY = 30.0
T = TypeVar("T")


class Transient(Exception):
    """A transfer try failed in a way another try may not (a refused connection, a 503)."""

    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause, retry_after)
        self.cause, self.retry_after = cause, retry_after


class Permanent(Exception):
    """A transfer failed in a way no retry mends (404, permission denied, a bad checksum)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def with_retries(url: str, direction: str, local_path: str | None, attempts: int,
                 backoff: float, attempt: Callable[[int], T]) -> T:
    """Call ``attempt(n)`` for n = 1.. until it returns; wait ``backoff * 2**(n-1)`` (with
    jitter, or the server's Retry-After) after a Transient failure; raise StagingError
    naming the URL, the last cause and the number of tries."""
    cause = "no try was made"
    for n in range(1, attempts + 1):
        try:
            return attempt(n)
        except Transient as exc:
            cause = exc.cause
            if n < attempts:
                delay = exc.retry_after if exc.retry_after is not None else \
                    backoff * 2 ** (n - 1) * (0.5 + random.random())
                log.debug("staging %s %s: try %d failed (%s); next in %.2fs", direction, url,
                          n, cause, delay)
                time.sleep(min(delay, MAX_DELAY))  # backoff before the next try
        except Permanent as exc:
            raise StagingError(url, direction, exc.cause, n, local_path) from None
        except OSError as exc:  # the local side: disk full, permission, missing directory
            raise StagingError(url, direction, f"{exc.strerror or exc} ({exc.filename or ''})",
                               n, local_path) from None
    raise StagingError(url, direction, cause, attempts, local_path)


def _check(name: str, value: Any, allowed: str, ok: bool) -> None:
    if not ok:
        raise ConfigurationError(name, value, allowed)


def _real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        not math.isnan(value)


def check_flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool, else a ConfigurationError naming ``name``."""
    _check(name, value, "True or False", isinstance(value, bool))
    return bool(value)


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
        _check("where", where, "'worker', 'pilot' or 'submitter'",
               isinstance(where, str) and where in WHERE)
        check_flag("cache", cache)
        _check("cache_dir", cache_dir, "a directory path or None",
               cache_dir is None or (isinstance(cache_dir, str) and bool(cache_dir)))
        _check("cache_size", cache_size, "an int number of bytes >= 0",
               isinstance(cache_size, int) and not isinstance(cache_size, bool)
               and cache_size >= 0)
        _check("cache_max_age", cache_max_age, "seconds >= 0 (math.inf: never ask again)",
               _real(cache_max_age) and cache_max_age >= 0)
        _check("attempts", attempts, "an int >= 1",
               isinstance(attempts, int) and not isinstance(attempts, bool) and attempts >= 1)
        _check("backoff", backoff, "finite seconds >= 0",
               _real(backoff) and 0 <= backoff < math.inf)
        _check("timeout", timeout, "finite seconds > 0",
               _real(timeout) and 0 < timeout < math.inf)
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
        (for resuming where the last try stopped)."""
        raise Permanent(f"{type(self).__name__} cannot fetch files")

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        """Whether the remote file still matches a cached copy with validator ``meta``."""
        return False

    def push(self, src: str, file: File) -> None:
        """Upload the local file ``src`` to ``file``'s URL, so it appears whole or not."""
        raise Permanent(f"{type(self).__name__} cannot stage files out")

    # -- Staging --------------------------------------------------------------------------------
    def can_stage_in(self, file: File) -> bool:
        return file.scheme in self.schemes

    def can_stage_out(self, file: File) -> bool:
        return self.stages_out and file.scheme in self.schemes

    def stage_in(self, dm: DataManager, executor: str, file: File,
                 parent_fut: Future[Any] | None) -> DataFuture | None:
        file.local_path = self.local_path_for(dm, executor, file)
        if self.where == "worker":
            return None
        fut = dm.dfk.submit(stage_in_task, (self, file), {
            "parent_fut": parent_fut, "outputs": [file], "_parsl_staging_inhibit": "in"},
            func_name=f"stage_in_{self.schemes[0]}", executors=[self._label(executor)])
        outputs: list[DataFuture] = fut.outputs
        return outputs[0]

    def replace_task(self, dm: DataManager, executor: str, file: File,
                     func: Callable[..., Any]) -> Callable[..., Any] | None:
        if self.where != "worker" or dm.plan_in_task(self, file, "in"):
            return None
        from functools import partial

        from plait.data._intask import fetch_then_run  # called outside plait's kernel

        return partial(fetch_then_run, self, file, func)

    def stage_out(self, dm: DataManager, executor: str, file: File,
                  app_fu: Future[Any]) -> Future[Any] | None:
        file.local_path = self.local_path_for(dm, executor, file)
        if self.where == "worker":
            return None
        dm.plan_in_task(self, file, "parent")
        return dm.dfk.submit(stage_out_task, (self, file, app_fu), {
            "inputs": [file], "_parsl_staging_inhibit": "out"},
            func_name=f"stage_out_{self.schemes[0]}", executors=[self._label(executor)])

    def replace_task_stage_out(self, dm: DataManager, executor: str, file: File,
                               func: Callable[..., Any]) -> Callable[..., Any] | None:
        if self.where != "worker" or dm.plan_in_task(self, file, "out"):
            return None
        from functools import partial

        from plait.data._intask import run_then_push

        return partial(run_then_push, self, file, func)

    def _label(self, executor: str) -> str:
        return executor if self.where == "pilot" else INTERNAL_EXECUTOR

    def local_path_for(self, dm: DataManager, executor: str, file: File) -> str:
        """Where the task sees the file: a bare name in a sandbox (resolved on the worker),
        else ``working_dir/filename`` (Parsl's choice), else the bare name."""
        executor_obj = dm.dfk.executors.get(executor)
        if self.where == "worker" and getattr(executor_obj, "sandbox", False):
            return file.filename
        working_dir = getattr(executor_obj, "working_dir", None)
        return os.path.join(working_dir, file.filename) if working_dir else file.filename

    # -- transfers, wherever the staging runs -------------------------------------------------
    def fetch_here(self, file: File) -> bool:
        """Fetch ``file`` to its ``local_path`` on this machine; return whether the cache
        had it."""
        dest = file.filepath
        if self.cache and self.cacheable:
            from plait.data._cache import Cache, default_dir

            cache = Cache(os.path.expanduser(self.cache_dir or default_dir()),
                          self.cache_size, self.cache_max_age)
            return cache.get(cache_key(file), dest, lambda part: self._fetch(file, part),
                             lambda meta: self.is_current(file, meta))
        write_whole(dest, lambda part: self._fetch(file, part))
        return False

    def _fetch(self, file: File, part: str) -> dict[str, Any] | None:
        make_parent(part)
        state: dict[str, Any] = {}
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
    _check("where", where, f"'pilot' or 'submitter' (use {in_task_class} to transfer on "
           "the worker)", isinstance(where, str) and where in ("pilot", "submitter"))
    return where


def cache_key(file: File) -> str:
    """The cache key of a file: its URL less any fragment (a checksum is checked anyway)."""
    return file.url.partition("#")[0]


def stage_in_task(provider: TransferStaging, file: File, parent_fut: object = None,
                  outputs: object = (), _parsl_staging_inhibit: object = True) -> None:
    """The body of a separate stage-in task."""
    provider.fetch_here(file)


def stage_out_task(provider: TransferStaging, file: File, app_result: object = None,
                   inputs: object = (), _parsl_staging_inhibit: object = True) -> None:
    """The body of a separate stage-out task (it runs after the app: ``app_result``)."""
    provider.push_here(file)
