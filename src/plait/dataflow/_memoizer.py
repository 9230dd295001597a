"""The interface between the kernel and memoization/checkpointing (Parsl's ``Memoizer``).

The kernel calls ``check_memo`` just before launching a task whose app has ``cache=True``,
``update_memo_result``/``update_memo_exception`` when such a task ends, ``checkpoint()`` on
``dfk.checkpoint()``, and ``close()`` at cleanup (after the executors stopped).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.dataflow._task import Task


class Memoizer(ABC):
    """Decides whether a task's result is already known, and records results."""

    #: whether this memoizer memoizes at all (apps still need ``cache=True``)
    memoize: bool = True

    def start(self, *, run_dir: str, config_run_dir: str) -> None:  # noqa: B027 - optional
        """Called once at load: ``run_dir`` is this run's directory, ``config_run_dir`` the
        base directory holding every run (where earlier checkpoints are found)."""

    @abstractmethod
    def check_memo(self, task: Task) -> Future[Any] | None:
        """Set ``task.hashsum``; return a completed future if the result is known."""

    @abstractmethod
    def update_memo_result(self, task: Task, result: Any) -> None:
        """Record the result of a task that succeeded."""

    def update_memo_exception(self, task: Task, exception: BaseException) -> None:  # noqa: B027
        """Record that a task failed (failures are never checkpointed)."""

    def checkpoint(self) -> int:
        """Write pending records now; return how many were written."""
        return 0

    def close(self) -> None:  # noqa: B027 - optional hook
        """Final checkpoint and release of files."""
