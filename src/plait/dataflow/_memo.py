"""BasicMemoizer: placeholder until memoization lands (issue 3); it never hits."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from plait.dataflow._memoizer import Memoizer

if TYPE_CHECKING:
    from plait.dataflow._task import Task


class BasicMemoizer(Memoizer):
    """Memoization and checkpointing of app results (Parsl's ``BasicMemoizer``)."""

    def __init__(self, *, checkpoint_files: Sequence[str] | None = None,
                 checkpoint_period: str | None = None, checkpoint_mode: str | None = None,
                 memoize: bool = True) -> None:
        self.checkpoint_files, self.checkpoint_period = checkpoint_files, checkpoint_period
        self.checkpoint_mode, self.memoize = checkpoint_mode, memoize

    def check_memo(self, task: Task) -> Future[Any] | None:
        return None

    def update_memo_result(self, task: Task, result: Any) -> None:
        return None
