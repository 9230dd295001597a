"""Config: what a run uses (executors, retries, checkpoints, run directory), checked up front.

Every field is validated when the Config is built and again when it is loaded (scripts
mutate configs between the two); an error names the field, the value given and what is
accepted. Field names and defaults are Parsl's, with the differences documented below.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from plait._errors import ConfigurationError
from plait._validate import (
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_methods,
    check_number,
    check_str,
)
from plait.executors._base import Executor

ExitMode = Literal["cleanup", "skip", "wait"]
CheckpointMode = Literal["task_exit", "periodic", "dfk_exit", "manual"]

_EXIT_MODES = ("cleanup", "skip", "wait")
_CHECKPOINT_MODES = ("task_exit", "periodic", "dfk_exit", "manual")
_STRATEGIES = ("simple", "htex_auto_scale", "none")
_PERIOD = re.compile(r"^(\d+):([0-5]?\d):([0-5]?\d)$")


def _default_executors() -> tuple[Executor, ...]:
    from plait.executors._threads import ThreadPoolExecutor

    return (ThreadPoolExecutor(),)


@dataclass(eq=False)
class Config:
    """Configuration of a DataFlowKernel (Parsl's ``Config``).

    Differences from Parsl:
      * ``exit_mode`` defaults to ``"wait"``: ``with plait.load(config):`` waits for every
        task before cleaning up (when the block ends normally; on an exception it cleans up
        at once, cancelling tasks that have not started).
      * ``initialize_logging=True`` writes ``<run_dir>/NNN/plait.log`` at ``log_level``
        (default INFO: per-task lines are DEBUG and cost nothing unless enabled); a
        LogConfig (``plait.logconfigs.FileLogging()``, ``JSONLogging()``, ``NoopLogging()``)
        sets up logging its own way, as in Parsl, in the submitting process;
        ``log_config=LogConfig`` says the same.
      * ``usage_tracking`` (levels 0-3, default 0: off) sends anonymous usage messages to
        ``$PLAIT_USAGE_TRACKING_ENDPOINT`` only (plait runs no collector: without that
        variable nothing is sent). ``plait usage --show`` prints what would be sent.
      * ``monitoring=MonitoringHub(...)`` records the run in a database written by its own
        process (see plait.monitoring); an outage of it never stops the run.
      * plait additions: ``infrastructure_retries`` (tries lost to a dead worker, manager or
        block, retried without consuming ``retries``), ``retry_backoff`` (delay between
        tries), ``log_level``.
      * The pre-2026 checkpoint fields (``app_cache``, ``checkpoint_mode``,
        ``checkpoint_period``, ``checkpoint_files``) and ``memoizer=BasicMemoizer(...)``
        are both accepted and drive the same implementation.
    """

    executors: Sequence[Executor] | None = None
    memoizer: Any = None
    dependency_resolver: Any = None
    exit_mode: ExitMode = "wait"
    garbage_collect: bool = True
    internal_tasks_max_threads: int = 10
    retries: int = 0
    retry_handler: Callable[[BaseException, Any], float] | None = None
    run_dir: str = "runinfo"
    std_autopath: Callable[[Any, str], Any] | None = None
    strategy: str | None = "simple"
    strategy_period: float = 5
    max_idletime: float = 120.0
    monitoring: Any = None
    usage_tracking: int = 0
    project_name: str | None = None
    initialize_logging: Any = True  # True, False, or a LogConfig (plait.logconfigs)
    app_cache: bool = True
    checkpoint_files: Sequence[str] | None = None
    checkpoint_mode: CheckpointMode | None = None
    checkpoint_period: str | None = None
    infrastructure_retries: int = 3
    retry_backoff: Any = None
    log_level: int = logging.INFO
    log_config: Any = None  # a LogConfig; the same as initialize_logging=LogConfig
    _executors: tuple[Executor, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        if self.strategy is None:
            warnings.warn("Config(strategy=None) is deprecated: use strategy='none'",
                          DeprecationWarning, stacklevel=3)
        self.validate()

    def validate(self) -> None:
        """Check every field; raise ConfigurationError naming the first bad one."""
        self._executors = _check_executors(self.executors)
        check_choice("exit_mode", self.exit_mode, _EXIT_MODES)
        check_choice("checkpoint_mode", self.checkpoint_mode, (*_CHECKPOINT_MODES, None))
        if self.strategy is not None:
            check_choice("strategy", self.strategy, _STRATEGIES)
        for name in ("retries", "infrastructure_retries"):
            check_int(name, getattr(self, name), low=0)
        check_int("internal_tasks_max_threads", self.internal_tasks_max_threads, low=1)
        if not isinstance(self.usage_tracking, bool):  # older Parsl took a bool
            check_int("usage_tracking", self.usage_tracking, low=0, high=3)
        check_number("strategy_period", self.strategy_period, low=0, strict=True,
                     kind="a number of seconds")
        check_number("max_idletime", self.max_idletime, low=0, inf=True,
                     kind="a number of seconds")
        for name in ("garbage_collect", "app_cache"):
            check_bool(name, getattr(self, name))
        hub = self.monitoring
        if hub is not None and not all(callable(getattr(hub, m, None)) for m in ("start",
                                                                                 "close")):
            raise ConfigurationError("monitoring", self.monitoring,
                                     "a plait.monitoring.MonitoringHub or None")
        for name in ("retry_handler", "std_autopath"):
            check_callable(name, getattr(self, name))
        check_str("run_dir", self.run_dir)
        check_str("project_name", self.project_name, empty=True, none=True)
        check_int("log_level", self.log_level, low=0, high=logging.CRITICAL)
        check_methods("memoizer", self.memoizer, ("check_memo",),
                      "a Memoizer such as BasicMemoizer(...)", none=True)
        check_methods("dependency_resolver", self.dependency_resolver,
                      ("traverse_to_gather", "traverse_to_unwrap"),
                      "a DependencyResolver (SHALLOW_DEPENDENCY_RESOLVER or "
                      "DEEP_DEPENDENCY_RESOLVER)", none=True)
        check_methods("retry_backoff", self.retry_backoff, ("delay",),
                      "a RetryBackoff(...)", none=True)
        hint = "For example plait.logconfigs.JSONLogging() or NoopLogging()."
        if not isinstance(self.initialize_logging, bool) and not _is_log_config(
                self.initialize_logging):
            raise ConfigurationError("initialize_logging", self.initialize_logging,
                                     "True, False or a LogConfig", hint)
        if self.log_config is not None and not _is_log_config(self.log_config):
            raise ConfigurationError("log_config", self.log_config, "None or a LogConfig",
                                     hint)
        if self.checkpoint_period is not None:
            checkpoint_period_seconds(self.checkpoint_period)
        if self.checkpoint_files is not None and (
            isinstance(self.checkpoint_files, str)
            or not isinstance(self.checkpoint_files, (list, tuple))
            or not all(isinstance(p, str) for p in self.checkpoint_files)
        ):
            raise ConfigurationError("checkpoint_files", self.checkpoint_files,
                                     "a list of checkpoint directory paths",
                                     "Use plait.utils.get_all_checkpoints() to find them.")

    @property
    def log_setup(self) -> Any:
        """How the kernel sets up logging: ``log_config`` if given, else
        ``initialize_logging`` (True, False or a LogConfig)."""
        return self.log_config if self.log_config is not None else self.initialize_logging

    @property
    def executor_list(self) -> tuple[Executor, ...]:
        """The executors this config runs, the default thread pool if none were given."""
        return self._executors

    def __repr__(self) -> str:
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                 if f.init and getattr(self, f.name) != f.default]
        return f"Config({', '.join(parts)})"


def checkpoint_period_seconds(period: str) -> int:
    """Parse ``"HH:MM:SS"`` into seconds, or raise ConfigurationError."""
    match = _PERIOD.match(period) if isinstance(period, str) else None
    if not match:
        raise ConfigurationError("checkpoint_period", period, "a string 'HH:MM:SS'",
                                 "For example checkpoint_period='00:30:00'.")
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _check_executors(executors: object) -> tuple[Executor, ...]:
    allowed = "a list of plait executors (ThreadPoolExecutor, HighThroughputExecutor, ...)"
    if isinstance(executors, Executor):
        raise ConfigurationError("executors", executors, allowed,
                                 f"Put it in a list: executors=[{executors!r}].")
    if executors is not None and (isinstance(executors, (str, bytes, dict))
                                  or not isinstance(executors, Iterable)):
        raise ConfigurationError("executors", executors, allowed)
    execs = tuple(executors) if executors else _default_executors()
    for ex in execs:
        if not isinstance(ex, Executor):
            raise ConfigurationError("executors", ex, allowed)
    labels = [ex.label for ex in execs]
    dups = sorted({x for x in labels if labels.count(x) > 1})
    if dups:
        raise ConfigurationError("executors", dups, "distinct labels",
                                 "Set label=... on each executor.")
    if "_parsl_internal" in labels:
        raise ConfigurationError("executors", "_parsl_internal",
                                 "labels other than the reserved '_parsl_internal'")
    return execs


def _is_log_config(value: object) -> bool:
    return callable(getattr(value, "initialize_logging", None))
