"""ZipFileStaging: members of local zip archives as inputs and outputs (Parsl's provider).

``zip:/path/to/archive.zip/member/path``. Stage-in extracts the member; stage-out has the
app write ``working_dir/member/path`` and then adds it to the archive, under a file lock
(``archive.zip.lock``) so concurrent tasks add to one archive in turn. The archive is
rewritten beside itself and renamed into place, so a reader never sees a half-written one.
Both run on the kernel's internal threads by default (the archive is on the submitting
machine), as in Parsl.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar

from plait.data._atomic import write_whole
from plait.data._errors import ZipAuthorityError
from plait.data._files import File
from plait.data._retries import Permanent
from plait.data._staging import DataManagerAPI
from plait.data._transfer import TransferStaging, Where
from plait.data._urls import split_zip

if TYPE_CHECKING:
    from plait.data._futures import DataFuture


class ZipFileStaging(TransferStaging):
    """Stage ``zip:`` members in and out (Parsl's ``ZipFileStaging``).

    Args:
        where: ``"submitter"`` (default, Parsl's) or ``"worker"``/``"pilot"`` when the
            archive is on a file system those share.
        **options: as for TransferStaging (members are never cached: the archive is local).
    """

    schemes: ClassVar[tuple[str, ...]] = ("zip",)
    cacheable: ClassVar[bool] = False

    def __init__(self, where: Where = "submitter", **options: Any) -> None:
        super().__init__(where, **options)

    def stage_in(self, dm: DataManagerAPI, executor: str, file: File,
                 parent_fut: Future[Any] | None) -> DataFuture | None:
        _refuse_authority(file)
        return super().stage_in(dm, executor, file, parent_fut)

    def stage_out(self, dm: DataManagerAPI, executor: str, file: File,
                  app_fu: Future[Any]) -> Future[Any] | None:
        _refuse_authority(file)
        return super().stage_out(dm, executor, file, app_fu)

    def local_path_for(self, dm: DataManagerAPI, executor: str, file: File) -> str:
        working_dir = getattr(dm.dfk.executors.get(executor), "working_dir", None)
        member = split_zip(file.url, file.path)[1]
        return dm.claim(os.path.join(working_dir, member) if working_dir else member, file.url)

    def fetch(self, file: File, part: str, state: dict[str, Any]) -> None:
        import zipfile

        archive, member = split_zip(file.url, file.path)
        try:
            with zipfile.ZipFile(archive) as z, z.open(member) as src, open(part, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except FileNotFoundError:
            raise Permanent(f"there is no archive {archive}") from None
        except KeyError:
            raise Permanent(f"{archive} has no member {member}") from None
        except zipfile.BadZipFile as exc:
            raise Permanent(f"{archive} is not a zip archive ({exc})") from None

    def push(self, src: str, file: File) -> None:
        import filelock

        archive, member = split_zip(file.url, file.path)
        with filelock.FileLock(archive + ".lock"):
            write_whole(archive, _adding(archive, member, src))
        os.unlink(src)  # the app's copy: it now lives in the archive


def _adding(archive: str, member: str, src: str) -> Callable[[str], None]:
    def write(part: str) -> None:
        import zipfile

        if os.path.exists(archive):
            shutil.copyfile(archive, part)
        with zipfile.ZipFile(part, "a", compression=zipfile.ZIP_DEFLATED) as z:
            z.write(src, member)

    return write


def _refuse_authority(file: File) -> None:
    if file.netloc or file.url.lower().startswith("zip://"):
        raise ZipAuthorityError(file.url)
