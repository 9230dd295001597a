"""BasicMemoizer: the memo table of this run, checkpoints of earlier runs, and writing new ones.

    kernel ──check_memo(task)──▶ memo table (this run) ─miss─▶ index of earlier checkpoints
    kernel ──update_memo_result──▶ memo table + (task_exit) store, or (other modes) pending
    timer thread (periodic) / dfk.checkpoint() (manual) / close() ──▶ pending ──▶ store

Threads: ``check_memo`` runs on whichever thread launches the task, ``update_memo_*`` on
executor completion threads, the periodic timer on its own thread (joined by ``close``),
and file writes on the store's writer thread (see CheckpointWriter). A lock guards the
pending list; results are pickled outside it, on the thread that completes the task.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from plait._config import checkpoint_period_seconds
from plait._errors import BadCheckpoint, ConfigurationError, TaskCancelled
from plait._lightfuture import LightFuture
from plait._validate import check_bool, check_str_list
from plait.data._files import File
from plait.dataflow import _checkpoint
from plait.dataflow._checkpoint import CheckpointWarning, CheckpointWriter, RecordRef
from plait.dataflow._memoizer import Memoizer
from plait.dataflow._memokey import hash_parts, make_hash
from plait.executors._errors import InfrastructureError

if TYPE_CHECKING:
    from plait._config import Config
    from plait.dataflow._task import Task

log = logging.getLogger("plait.dataflow.memo")

_MODES = ("task_exit", "periodic", "dfk_exit", "manual")
_MISSING: Any = object()


def _missing_outputs(outputs: Any) -> list[str]:
    """Local output files (File or path) of a task that do not exist now."""
    missing = []
    for out in outputs if isinstance(outputs, (list, tuple)) else ():
        if isinstance(out, File):
            if out.scheme != "file":
                continue  # remote: nothing cheap and reliable to check here
            path = out.local_path or out.path
        elif isinstance(out, (str, os.PathLike)):
            path = os.fspath(out)
        else:
            continue
        if not os.path.exists(path):
            missing.append(str(path))
    return missing


class BasicMemoizer(Memoizer):
    """Memoization of app results and their checkpoints (Parsl's ``BasicMemoizer``).

    A task is memoized when this memoizer has ``memoize=True`` and its app ``cache=True``.
    Within a run the table keeps results and failures; only results are checkpointed.

    The key covers the app function (module, name and code: editing its body, defaults or
    closure invalidates it; functions it calls are not covered), every positional and
    keyword argument by value (``inputs``/``outputs`` Files by URL), less the names in
    ``ignore_for_cache``. It is the same in every process and run. An argument with no
    stable hash fails the task with a ValueError naming it; register a hasher with
    ``@id_for_memo.register(MyType)``. With logging at DEBUG, each miss logs a digest of
    every part of its key, so two runs' logs show which argument changed.

    Args:
        checkpoint_files: checkpoint directories (or store files) to load results from. If
            None and ``checkpoint_mode`` is set, every earlier run's checkpoint under the
            config's ``run_dir`` is loaded (later runs win).
        checkpoint_period: ``"HH:MM:SS"``, required for ``checkpoint_mode='periodic'``.
        checkpoint_mode: ``'task_exit'`` (each result written as its task ends),
            ``'periodic'``, ``'dfk_exit'`` (at cleanup), ``'manual'`` (``checkpoint()``, and
            at cleanup), or None (nothing written).
        memoize: False turns memoization off: nothing is looked up, loaded or written.

    Differences from Parsl: the store is ``checkpoint/tasks.ckpt``, an append-only file of
    CRC-checked records that survives kill -9 (Parsl: ``tasks.pkl``); a damaged store is
    loaded up to the damage with a warning instead of raising; a result that cannot be
    pickled is skipped with a warning; cancelled tasks and tasks lost with their worker are
    not memoized as failures, so an identical later call runs again; a hit whose declared
    local ``outputs`` files no longer exist is ignored, so the task runs and makes them
    again; ``walltime`` and ``parsl_resource_specification`` are not part of the hash.

    Raises:
        ConfigurationError: an unknown mode, or ``'periodic'`` without a valid period.
    """

    def __init__(self, *, checkpoint_files: Sequence[str] | None = None,
                 checkpoint_period: str | None = None, checkpoint_mode: str | None = None,
                 memoize: bool = True) -> None:
        if checkpoint_mode is not None and checkpoint_mode not in _MODES:
            raise ConfigurationError("checkpoint_mode", checkpoint_mode,
                                     " or ".join(map(repr, (*_MODES, None))))
        check_bool("memoize", memoize, owner="BasicMemoizer")
        check_str_list("checkpoint_files", checkpoint_files, none=True, owner="BasicMemoizer")
        self._period: float | None = None
        if checkpoint_period is not None:
            checkpoint_period_seconds(checkpoint_period)
        if checkpoint_mode == "periodic":
            if checkpoint_period is None:
                raise ConfigurationError("checkpoint_period", None, "a string 'HH:MM:SS'",
                                         "checkpoint_mode='periodic' needs a period.")
            self._period = checkpoint_period_seconds(checkpoint_period)
            if self._period < 1:
                raise ConfigurationError("checkpoint_period", checkpoint_period,
                                         "a period of at least 00:00:01")
        self.checkpoint_files = checkpoint_files
        self.checkpoint_period, self.checkpoint_mode = checkpoint_period, checkpoint_mode
        self.memoize = memoize
        self._reset()

    def _reset(self) -> None:
        # this run's outcomes by hash; two dicts, not a dict of (ok, value) pairs, because
        # the garbage collector walks every tuple kept alive, and there is one per task
        self._results: dict[str, Any] = {}
        self._failures: dict[str, BaseException] = {}
        self._loaded: dict[str, RecordRef | tuple[RecordRef, bytes]] = {}
        self._pending: list[tuple[str, Any, Task]] = []
        self._lock = threading.Lock()
        self._writer: CheckpointWriter | None = None
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._warned: set[str] = set()

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, *, run_dir: str, config_run_dir: str) -> None:
        """Load earlier checkpoints and prepare this run's store under ``run_dir``."""
        self._reset()
        if not self.memoize:
            return
        own = os.path.abspath(os.path.join(run_dir, _checkpoint.CHECKPOINT_DIR))
        if self.checkpoint_mode is not None:
            self._writer = CheckpointWriter(own)
        if self.checkpoint_files is not None:
            self._loaded = _checkpoint.load_index(list(self.checkpoint_files), explicit=True)
        elif self.checkpoint_mode is not None:
            found = [c for c in _checkpoint.get_all_checkpoints(config_run_dir) if c != own]
            self._loaded = _checkpoint.load_index(found, explicit=False)
        if self._period is not None:
            name = f"plait-checkpoint-timer-{os.path.basename(run_dir)}"
            self._timer = threading.Thread(target=self._tick, args=(self._period,), name=name,
                                           daemon=True)
            self._timer.start()

    def _tick(self, period: float) -> None:
        while not self._stop.wait(period):  # a deadline: the next checkpoint is due
            try:
                self.checkpoint()
            except Exception:
                log.exception("periodic checkpoint failed; trying again in %s s", period)

    def close(self) -> None:
        """Stop the timer, write what is pending (any mode but None) and sync the store."""
        self._stop.set()
        timer, self._timer = self._timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=60)  # at most one checkpoint in progress to wait for
        try:
            if self.checkpoint_mode is not None and self.memoize:
                self.checkpoint()
        finally:
            if self._writer is not None:
                self._writer.close()

    # -- the kernel's hooks -------------------------------------------------------------------
    def make_hash(self, task: Task) -> str:
        """The memoization key of ``task`` (see :func:`plait.dataflow.memoization.make_hash`)."""
        return make_hash(task)

    def check_memo(self, task: Task) -> Future[Any] | None:
        """Set ``task.hashsum``; return a completed future if its outcome is known."""
        if not (self.memoize and task.cache):
            task.hashsum = None
            return None
        hashsum = task.hashsum = self.make_hash(task)
        result = self._results.get(hashsum, _MISSING)
        failure = self._failures.get(hashsum) if result is _MISSING else None
        if result is _MISSING and failure is None:
            result = self._from_checkpoint(task, hashsum) if self._loaded else _MISSING
            if result is _MISSING:
                if log.isEnabledFor(logging.DEBUG):  # explains a miss: compare two runs' logs
                    log.debug("%s: not memoized yet, key %s from %s", task.describe(),
                              hashsum, hash_parts(task))
                return None
        if failure is None and task.kwargs and task.kwargs.get("outputs"):
            missing = _missing_outputs(task.kwargs["outputs"])
            if missing:
                log.info("%s runs again although its result is memoized: its output file(s) "
                         "%s no longer exist", task.describe(), ", ".join(missing))
                return None
        log.debug("task %d: memo hit for %s", task.id, hashsum)
        fut: Future[Any] = LightFuture()
        if failure is None:
            fut.set_result(result)
        else:
            fut.set_exception(failure)
        return fut

    def hash_lookup(self, hashsum: str) -> Future[Any]:
        """A completed future holding this run's outcome for ``hashsum`` (Parsl's method).

        Raises:
            KeyError: no task with that key finished in this run.
        """
        fut: Future[Any] = LightFuture()
        if hashsum in self._results:
            fut.set_result(self._results[hashsum])
        elif hashsum in self._failures:
            fut.set_exception(self._failures[hashsum])
        else:
            raise KeyError(hashsum)
        return fut

    def _from_checkpoint(self, task: Task, hashsum: str) -> Any:
        """The checkpointed result for ``hashsum``, or _MISSING."""
        ref = self._loaded.get(hashsum)
        if ref is None:
            return _MISSING
        try:
            result = _checkpoint.read_result(ref)
        except BadCheckpoint as exc:
            self._loaded.pop(hashsum, None)
            message = f"{task.describe()} runs again: {exc}"
            log.warning("%s", message)
            warnings.warn(message, CheckpointWarning, stacklevel=2)
            return _MISSING
        self._results[hashsum] = result
        return result

    def update_memo_result(self, task: Task, result: Any) -> None:
        """Record ``task``'s result, and checkpoint it as the mode says."""
        hashsum = task.hashsum
        if hashsum is None:
            return
        if hashsum in self._results:
            log.debug("Replacing app cache entry %s with the result of task %d",
                      hashsum, task.id)
        self._results[hashsum] = result
        self._failures.pop(hashsum, None)
        mode = self.checkpoint_mode
        if mode == "task_exit":
            data = self._pickle(result, task)
            writer = self._writer
            if data is not None and writer is not None and not writer.append(
                    _checkpoint.frame(hashsum, data)):
                log.warning("%s finished after the checkpoint store was closed: its result "
                            "is not checkpointed", task.describe())
        elif mode is not None:
            with self._lock:
                self._pending.append((hashsum, result, task))

    def update_memo_exception(self, task: Task, exception: BaseException) -> None:
        """Remember a failure for this run (never checkpointed)."""
        hashsum = task.hashsum
        if hashsum is None or isinstance(exception, (TaskCancelled, InfrastructureError)):
            return  # not the app's own outcome: an identical call should run
        if hashsum not in self._results:  # a known result beats a later failure
            self._failures[hashsum] = exception

    def checkpoint(self) -> int:
        """Write the results of tasks finished since the last checkpoint; return how many
        (in ``task_exit`` mode they are written as tasks end: this waits for them)."""
        with self._lock:
            batch, self._pending = self._pending, []
        written = self._write(batch) if batch else 0
        if self._writer is not None and not self._writer.flush():
            log.warning("checkpoint records to %s are not all written after 60 s",
                        self._writer.path)
        if not batch:
            if self.checkpoint_mode == "task_exit":
                log.debug("checkpoint(): task_exit mode writes each result as it ends")
            elif self.checkpoint_mode is None:
                log.info("No tasks checkpointed: checkpoint_mode is None (set "
                         "checkpoint_mode='manual' to checkpoint on request)")
            else:
                log.info("No tasks checkpointed in this pass.")
            return 0
        log.info("Done checkpointing %d tasks", written)
        return written

    # -- writing ------------------------------------------------------------------------------
    def _write(self, batch: list[tuple[str, Any, Task]]) -> int:
        frames = []
        for hashsum, result, task in batch:
            data = self._pickle(result, task)
            if data is not None:
                frames.append(_checkpoint.frame(hashsum, data))
        if not frames or self._writer is None:
            return 0
        if not self._writer.append(b"".join(frames)):
            log.warning("%d results finished after the checkpoint store was closed and are "
                        "not checkpointed", len(frames))
            return 0
        return len(frames)

    def _pickle(self, result: Any, task: Task) -> bytes | None:
        try:
            return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            pass
        try:  # results holding lambdas or local classes: cloudpickle stores them by value
            import cloudpickle

            data: bytes = cloudpickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            return data
        except Exception as exc:
            app, who = task.func_name, task.describe()
            if app not in self._warned:
                self._warned.add(app)
                message = (f"{who}: its result, a {type(result).__qualname__}, cannot be "
                           f"pickled ({exc!r}), so it is not checkpointed and will be "
                           "computed again in the next run (the task itself succeeded; "
                           f"further results of {app} that cannot be pickled are logged "
                           "at DEBUG only)")
                log.warning("%s", message)
                warnings.warn(message, CheckpointWarning, stacklevel=2)
            else:
                log.debug("%s: result cannot be pickled, not checkpointed: %r", who, exc)
            return None


def make_memoizer(config: Config) -> Memoizer | None:
    """The memoizer a config asks for: ``config.memoizer``, or one built from the older
    ``app_cache``/``checkpoint_*`` fields; None when nothing can ever be memoized."""
    if config.memoizer is not None:
        if config.checkpoint_mode is not None or config.checkpoint_files is not None:
            raise ConfigurationError(
                "checkpoint_mode", config.checkpoint_mode,
                "None when memoizer= is given",
                "Configure checkpoints either on BasicMemoizer(...) or on Config, not both.")
        if not isinstance(config.memoizer, Memoizer):
            raise ConfigurationError("memoizer", config.memoizer,
                                     "a Memoizer such as BasicMemoizer(...)")
        return config.memoizer
    return BasicMemoizer(checkpoint_mode=config.checkpoint_mode,
                         checkpoint_period=config.checkpoint_period,
                         checkpoint_files=config.checkpoint_files,
                         memoize=config.app_cache)
