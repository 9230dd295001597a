"""Errors of the data layer: unusable file URLs and failed transfers.

::

    PlaitError
    ├── ConfigurationError
    │   └── FileURLError (a ValueError)    a File's URL is malformed or nobody can stage it
    │       ├── NoStagingProvider          no staging provider of the executor accepts the URL
    │       └── ZipAuthorityError          a zip: URL has a host part (Parsl's name)
    └── StagingError                       a transfer failed after its retries
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from plait._errors import ConfigurationError, PlaitError

_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@")


def redact(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``, for
    messages and logs."""
    return _PASSWORD.sub(r"\1:***@", url)


#: the URL schemes plait's bundled staging providers handle
BUNDLED_SCHEMES = ("file", "ftp", "globus", "http", "https", "rsync", "s3", "zip")


class FileURLError(ConfigurationError, ValueError):
    """A File's URL cannot be used: malformed, or of a scheme nothing stages.

    A ConfigurationError of the field ``url``, and a ValueError too, as in Parsl, so
    ``except ValueError`` keeps working.
    """

    def __init__(self, url: str, problem: str,
                 supported: Sequence[str] = BUNDLED_SCHEMES) -> None:
        url = redact(url)  # errors are logged and pickled: no password in them
        PlaitError.__init__(self, url, problem, tuple(supported))
        self.url, self.problem, self.supported = url, problem, tuple(supported)
        self.field, self.value, self.hint = "url", url, None
        self.allowed = f"a path or a URL of a supported scheme ({', '.join(self.supported)})"
        self._message = problem

    def __str__(self) -> str:
        return (f"File({self.url!r}): {self.problem}. Supported: "
                f"{', '.join(self.supported)} URLs, plain paths and user@host:path.")


class NoStagingProvider(FileURLError):
    """No staging provider of the task's executor accepts the file (Parsl's ValueError)."""

    def __init__(self, url: str, executor: str, direction: str,
                 supported: Sequence[str]) -> None:
        super().__init__(url, f"executor {executor} cannot stage {direction} this file: none "
                         "of its storage_access providers accepts it; add one that does",
                         supported)
        self.args = (self.url, executor, direction, tuple(supported))
        self.executor, self.direction = executor, direction

    def __str__(self) -> str:
        return (f"File({self.url!r}): {self.problem}. Its providers stage: "
                f"{', '.join(self.supported)}.")


class ZipAuthorityError(FileURLError):
    """A ``zip:`` URL names a host (``zip://host/...``); zip files are local paths."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "a zip URL cannot have an authority (host) part; write "
                         "zip:/path/to/archive.zip/member")
        self.args = (url,)


class StagingError(PlaitError):
    """Moving a file to or from where the task runs failed, after ``attempts`` tries.

    Args:
        url: the remote end.
        direction: ``"in"`` (fetch) or ``"out"`` (push).
        cause: what went wrong on the last try (status, errno text, server reply).
        attempts: how many tries were made.
        local_path: the local end, if known.
    """

    def __init__(self, url: str, direction: str, cause: str, attempts: int = 1,
                 local_path: str | None = None) -> None:
        url = redact(url)  # errors are logged and pickled: no password in them
        super().__init__(url, direction, cause, attempts, local_path)
        self.url, self.direction, self.cause = url, direction, cause
        self.attempts, self.local_path = attempts, local_path

    def __str__(self) -> str:
        verb = "fetching" if self.direction == "in" else "pushing"
        where = f" {'to' if self.direction == 'in' else 'from'} {self.local_path}" \
            if self.local_path else ""
        tries = "1 try" if self.attempts == 1 else f"{self.attempts} tries"
        return (f"staging {self.direction} failed {verb} {self.url}{where} after {tries}: "
                f"{self.cause}. Check that the URL is right and the server reachable from "
                "where the transfer runs; no partial file was left in place.")

