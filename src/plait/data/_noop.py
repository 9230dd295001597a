"""NoOpFileStaging: local files on a file system the workers share (Parsl's default)."""

from __future__ import annotations

from typing import ClassVar

from plait.data._files import File
from plait.data._staging import Staging


class NoOpFileStaging(Staging):
    """Accepts ``file`` URLs and plain paths, in and out, and moves nothing: the app reads
    and writes the path itself (Parsl's ``NoOpFileStaging``)."""

    schemes: ClassVar[tuple[str, ...]] = ("file",)

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "file"

    def can_stage_out(self, file: File) -> bool:
        return file.scheme == "file"

    def __repr__(self) -> str:
        return "NoOpFileStaging()"
