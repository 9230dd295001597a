"""DataFuture: stands for a File an app will produce; completes when the app (or stage-out) does."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from plait._lightfuture import LightFuture
from plait.data._files import File


class DataFuture(LightFuture[File]):
    """A future for one output ``File`` of a task; its result is that File.

    Args:
        fut: the future whose completion produces the file (the task's AppFuture or a
            stage-out future).
        file_obj: the File.
        tid: the id of the task producing the file.
    """

    __slots__ = ("file_obj", "parent", "tid")

    def __init__(self, fut: Future[Any], file_obj: File, tid: int | None = None) -> None:
        super().__init__()
        if not isinstance(file_obj, File):
            raise TypeError(f"DataFuture needs a File, not {type(file_obj).__name__}")
        self.parent, self.file_obj, self.tid = fut, file_obj, tid
        fut.add_done_callback(self._parent_done)

    def _parent_done(self, parent: Future[Any]) -> None:
        if parent.cancelled():
            LightFuture.cancel(self)
            return
        exc = parent.exception()
        if exc is not None:
            self.set_exception(exc)
        else:
            self.set_result(self.file_obj)

    @property
    def filepath(self) -> str:
        """The file's local path."""
        return self.file_obj.filepath

    @property
    def filename(self) -> str:
        """Same as ``filepath`` (Parsl's name)."""
        return self.filepath

    def describe(self) -> str:
        """How dependency errors name this future."""
        return f"DataFuture from task {self.tid}"

    def cancel(self) -> bool:
        """A DataFuture cannot be cancelled on its own: cancel the task's AppFuture."""
        return False

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<DataFuture at 0x{id(self):x} state={state} file={self.file_obj.url}>"
