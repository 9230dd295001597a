"""FTP stage-in and stage-out: Parsl's FTPInTaskStaging and FTPSeparateTaskStaging, on ftplib.

``ftp://[user[:password]@]host[:port]/path``; no user means anonymous, as in Parsl. A
download that breaks resumes with REST; its size is checked against SIZE, and SIZE + MDTM
are the cache validator. An upload goes to a hidden part name in the target directory
(created if missing) and is renamed into place, so readers never see half a file.
5xx replies (no such file, permission denied, login refused) fail at once; 4xx replies and
connection errors are retried.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from plait.data._files import File
from plait.data._retries import Permanent, Transient
from plait.data._transfer import TransferStaging, separate_task_where

if TYPE_CHECKING:
    import ftplib

CHUNK = 1 << 20


class _DiskError(Exception):
    """An OSError of the local file, carried through ftplib's callback untouched."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


class _FTPStaging(TransferStaging):
    schemes: ClassVar[tuple[str, ...]] = ("ftp",)

    def fetch(self, file: File, part: str, state: dict[str, Any]) -> dict[str, Any]:
        path = _path(file)
        with self._session(file) as ftp:
            size = _size(ftp, path)
            offset = os.path.getsize(part) if state.get("resume") and os.path.exists(part) \
                else 0
            with open(part, "ab" if offset else "wb") as out:
                def write(block: bytes) -> None:
                    try:
                        out.write(block)
                    except OSError as exc:
                        raise _DiskError(exc) from None

                state["resume"] = True
                ftp.retrbinary(f"RETR {path}", write, blocksize=CHUNK, rest=offset or None)
            got = os.path.getsize(part)
            if size is not None and got != size:
                raise Transient(f"got {got} of {size} bytes")
            return {"size": got, "mtime": _mdtm(ftp, path)}

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        path = _path(file)
        with self._session(file) as ftp:
            return bool(meta.get("mtime")) and _size(ftp, path) == meta.get("size") and \
                _mdtm(ftp, path) == meta["mtime"]

    def push(self, src: str, file: File) -> None:
        path = _path(file)
        directory, name = os.path.split(path)
        part = f"{directory}/.{name}.part-{uuid.uuid4().hex[:12]}"
        with self._session(file) as ftp:
            _make_dirs(ftp, directory)
            try:
                with open(src, "rb") as f:
                    ftp.storbinary(f"STOR {part}", f, blocksize=CHUNK)
                ftp.rename(part, path)
            except BaseException:
                try:
                    ftp.delete(part)
                except Exception:  # the part may never have been created
                    pass
                raise

    def _session(self, file: File) -> _Session:
        return _Session(file, self.timeout)


class _Session:
    """A logged-in connection; turns ftplib's errors into Transient or Permanent."""

    def __init__(self, file: File, timeout: float) -> None:
        self.file, self.timeout = file, timeout
        self.ftp: ftplib.FTP | None = None

    def __enter__(self) -> ftplib.FTP:
        import ftplib
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(self.file.url)
        user = unquote(parts.username or "anonymous")
        password = unquote(parts.password or ("anonymous@" if user == "anonymous" else ""))
        ftp = ftplib.FTP(timeout=self.timeout)
        try:
            ftp.connect(parts.hostname or "", parts.port or 21)
            self.ftp = ftp
            ftp.login(user, password)
            ftp.voidcmd("TYPE I")
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            raise
        return ftp

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        import ftplib

        if self.ftp is not None:
            try:
                self.ftp.quit() if exc is None else self.ftp.close()
            except (OSError, EOFError, ftplib.Error):
                self.ftp.close()
            self.ftp = None
        if isinstance(exc, _DiskError):
            raise exc.error from None
        if isinstance(exc, ftplib.error_perm):
            raise Permanent(f"the FTP server refused: {exc}") from None
        if isinstance(exc, (ftplib.Error, OSError, EOFError)):
            raise Transient(f"{type(exc).__name__}: {exc or 'connection closed'}") from None


def _path(file: File) -> str:
    from urllib.parse import unquote

    return unquote(file.path)


def _size(ftp: ftplib.FTP, path: str) -> int | None:
    import ftplib

    try:
        return ftp.size(path)
    except ftplib.error_perm as exc:
        if str(exc).startswith("550"):
            raise  # no such file: a permanent failure
        return None  # the server has no SIZE command


def _mdtm(ftp: ftplib.FTP, path: str) -> str | None:
    import ftplib

    try:
        return ftp.sendcmd(f"MDTM {path}").split()[-1]
    except ftplib.error_perm:
        return None


def _make_dirs(ftp: ftplib.FTP, directory: str) -> None:
    import ftplib

    current = ""
    for part in [p for p in directory.split("/") if p]:
        current = f"{current}/{part}" if directory.startswith("/") or current else part
        try:
            ftp.mkd(current)
        except ftplib.error_perm as exc:
            if not str(exc).startswith("550"):  # 550: it exists (or cannot be made: STOR says)
                raise


class FTPInTaskStaging(_FTPStaging):
    """Fetch and push ``ftp`` files on the worker, around the app (Parsl's
    ``FTPInTaskStaging``; stage-out is a plait addition). Options as for TransferStaging."""

    def __init__(self, **options: Any) -> None:
        super().__init__("worker", **options)


class FTPSeparateTaskStaging(_FTPStaging):
    """Fetch and push ``ftp`` files in staging tasks of their own (Parsl's
    ``FTPSeparateTaskStaging``; stage-out is a plait addition).

    Args:
        where: ``"pilot"`` (Parsl's: on the task's executor) or ``"submitter"``.
        **options: as for TransferStaging.
    """

    def __init__(self, where: Literal["pilot", "submitter"] = "pilot",
                 **options: Any) -> None:
        super().__init__(separate_task_where(where, "FTPInTaskStaging"), **options)
