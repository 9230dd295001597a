"""What a kernel run holds from load to cleanup: its run directory and log file, the
memoizer, the executors and their scaling poller; started in order, stopped in reverse.

The kernel owns one RunResources and calls ``start()`` once, ``add_executors()`` for
executors added later, and at cleanup ``stop_scaling()`` then ``shut_down(wait)``.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Sequence
from typing import Any

from plait._config import Config
from plait._errors import ConfigurationError
from plait.dataflow._memo import make_memoizer
from plait.dataflow._rundir import make_rundir, start_logging
from plait.executors._base import Executor
from plait.executors._threads import ThreadPoolExecutor

log = logging.getLogger("plait.dataflow")

INTERNAL_EXECUTOR = "_parsl_internal"


class RunResources:
    """The run directory, log file, memoizer, executors and scaling of one kernel."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.memoizer = make_memoizer(config)
        self.run_id = str(uuid.uuid4())
        self.run_dir = make_rundir(config.run_dir)
        self._stop_logging = start_logging(config.log_setup, self.run_dir, config.log_level)
        log.info("plait run %s in %s", self.run_id, self.run_dir)
        self.executors: dict[str, Executor] = {}
        self.user_labels: list[str] = []
        self.sandboxed: set[str] = set()  # labels of executors with sandbox=True
        self._poller: Any = None

    def start(self) -> None:
        """Start the memoizer, the config's executors and the internal thread pool."""
        config = self.config
        if self.memoizer is not None:
            self.memoizer.start(run_dir=self.run_dir, config_run_dir=config.run_dir)
        self.add_executors(config.executor_list)
        self.add_executors([ThreadPoolExecutor(INTERNAL_EXECUTOR,
                                               config.internal_tasks_max_threads)])

    def add_executors(self, executors: Sequence[Executor]) -> None:
        """Start ``executors`` and make them available to apps; scale those with blocks."""
        for ex in executors:
            if ex.label in self.executors:
                raise ConfigurationError("executors", ex.label, "a label not already in use")
            ex.run_dir, ex.run_id = self.run_dir, self.run_id
            provider = getattr(ex, "provider", None)
            if provider is not None and getattr(provider, "script_dir", "unset") is None:
                provider.script_dir = f"{self.run_dir}/submit_scripts"
            try:
                ex.start()
            except BaseException:
                ex.shutdown(wait=False)  # release whatever it started before failing
                raise
            self.executors[ex.label] = ex
            if getattr(ex, "sandbox", False):
                self.sandboxed.add(ex.label)
            if ex.label != INTERNAL_EXECUTOR:
                self.user_labels.append(ex.label)
        block_executors = [ex for ex in executors if getattr(ex, "provider", None) is not None]
        if block_executors:
            self._start_scaling(block_executors)

    def _start_scaling(self, executors: list[Executor]) -> None:
        from plait.scaling import JobStatusPoller  # loads only for block executors

        if self._poller is None:
            self._poller = JobStatusPoller(
                executors=[], strategy=self.config.strategy,
                strategy_period=self.config.strategy_period,
                max_idletime=self.config.max_idletime)
            self._poller.start()
        self._poller.add_executors(executors)

    def choose_executor(self, executors: str | Sequence[str]) -> str:
        """The label a task runs on: one of ``executors``, or of all user executors."""
        if executors == "all":
            return random.choice(self.user_labels)
        if isinstance(executors, str) or not isinstance(executors, (list, tuple)):
            raise ConfigurationError("executors", executors, "'all' or a list of labels")
        return random.choice(list(executors))

    def stop_scaling(self) -> None:
        """Stop the poller first, so that no block is submitted while executors stop."""
        if self._poller is not None:
            self._poller.close()

    def shut_down(self, wait: bool) -> None:
        """Shut every executor down, then write the final checkpoint; log what fails."""
        for ex in self.executors.values():
            try:
                ex.shutdown(wait=wait)
            except Exception:
                log.exception("shutting down executor %s failed", ex.label)
        if self.memoizer is not None:
            try:
                self.memoizer.close()
            except Exception:
                log.exception("final checkpoint failed")

    def close_log(self) -> None:
        """Detach the run's log file (the last thing a cleanup does)."""
        stop, self._stop_logging = self._stop_logging, lambda: None
        stop()
