"""File: a file named by a URL or path, passed between apps (Parsl's ``File``)."""

from __future__ import annotations

import os
from typing import Any, ClassVar


class File(os.PathLike):  # type: ignore[type-arg,unused-ignore]
    """A file an app reads or writes, named by a local path or a URL.

    ``File("out.txt")`` and ``File("file:///abs/out.txt")`` are local. Remote files are
    staged by the executor's ``storage_access`` providers: ``http(s)://host/path`` (a
    ``#sha256=HEX`` fragment is checked after the download), ``ftp://[user:pw@]host/path``,
    ``rsync://[user@]host/path`` or ``user@host:path`` (rsync over SSH),
    ``globus://ENDPOINT/path``, ``s3://bucket/key`` and ``zip:/path/a.zip/member``.
    ``os.fspath(f)`` and ``str(f)`` give the local path, so ``open(f)`` and
    ``f"cat {f}"`` work.

    Args:
        url: a path (str or os.PathLike) or a URL.

    Raises:
        FileURLError: the URL is malformed (the message names it and the supported
            schemes); ZipAuthorityError for ``zip://host/...``.

    Differences from Parsl: malformed URLs fail here rather than at submit or transfer
    time, and a plain path is never split at ``#`` or ``?``.
    """

    __slots__ = ("filename", "local_path", "netloc", "path", "scheme", "url")
    #: whether any File was made in this process: until one is, the kernel skips looking
    #: for files to stage in each task's arguments (the hot path stays as it was)
    made: ClassVar[bool] = False

    def __init__(self, url: str | os.PathLike[str]) -> None:
        if not isinstance(url, (str, os.PathLike)):
            raise TypeError(f"File() needs a path or URL string, not {type(url).__name__}")
        from plait.data._urls import parse  # here: keeps `import plait` fast

        self.url = os.fspath(url)
        if not isinstance(self.url, str):
            raise TypeError(f"File() needs a str path, not {type(self.url).__name__}")
        self.scheme, self.netloc, self.path, _ = parse(self.url)
        self.filename = os.path.basename(self.path.rstrip("/"))
        self.local_path: str | None = None
        File.made = True

    def cleancopy(self) -> File:
        """A new File with the same URL and no ``local_path``."""
        copy = File.__new__(File)  # the URL is parsed already: copy its parts
        copy.url, copy.scheme, copy.netloc = self.url, self.scheme, self.netloc
        copy.path, copy.filename, copy.local_path = self.path, self.filename, None
        return copy

    @property
    def filepath(self) -> str:
        """Where the file is on this machine: ``local_path``, else the path of a file URL."""
        if self.local_path is not None:
            return self.local_path
        if self.scheme == "file":
            return self.path
        raise ValueError(f"No local_path set for {self.url!r}: a {self.scheme} file must be "
                         "staged in before its path can be used")

    def __fspath__(self) -> str:
        return self.filepath

    def __str__(self) -> str:
        return self.filepath

    def __repr__(self) -> str:
        return (f"<File at 0x{id(self):x} url={self.url} scheme={self.scheme} "
                f"netloc={self.netloc} path={self.path} filename={self.filename}"
                + (f" local_path={self.local_path}" if self.local_path else "") + ">")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and (self.url, self.local_path) == (
            other.url, other.local_path)

    def __hash__(self) -> int:
        return hash(self.url)

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)
