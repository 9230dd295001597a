"""HTTP(S) stage-in: Parsl's HTTPInTaskStaging and HTTPSeparateTaskStaging.

A download streams into a part file over a keep-alive connection (see _httpclient). A try
that is cut short resumes with a range request (``If-Range`` on the ETag or Last-Modified, so a file
changed meanwhile restarts from zero); 408/429/5xx and connection errors are retried with
backoff (honouring Retry-After), other statuses fail at once. The length is checked
against Content-Length, and the content against ``#sha256=…`` (or md5, sha1, sha512) when
the URL carries one. Proxies come from the usual environment variables.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from plait._validate import fail
from plait.data._files import File
from plait.data._retries import Permanent, Transient
from plait.data._transfer import TransferStaging, Where, separate_task_where
from plait.data._urls import checksum_of

CHUNK = 4 << 20  # measured: 4 MiB reads move a large body about twice as fast as 1 MiB
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
HEADERS = {"Accept-Encoding": "identity", "User-Agent": "plait-staging"}


class _HTTPStaging(TransferStaging):
    schemes: ClassVar[tuple[str, ...]] = ("http", "https")
    stages_out: ClassVar[bool] = False

    def __init__(self, where: Where, *, headers: Mapping[str, str] | None = None,
                 **options: Any) -> None:
        super().__init__(where, **options)
        if headers is not None and not (isinstance(headers, Mapping) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise fail("headers", headers, "a dict of str to str, or None",
                       type(self).__name__)
        self.headers = dict(headers or {})

    def _headers(self, file: File) -> dict[str, str]:
        """The request headers: plait's, the provider's ``headers=``, and Basic auth from
        the URL's user:password or, failing that, ``~/.netrc`` (as curl -n and requests)."""
        headers = {**HEADERS, **self.headers}
        if "Authorization" not in headers:
            credentials = _credentials(file)
            if credentials is not None:
                token = base64.b64encode(":".join(credentials).encode()).decode()
                headers["Authorization"] = f"Basic {token}"
        return headers

    def fetch(self, file: File, part: str, state: dict[str, Any]) -> dict[str, Any]:
        import http.client

        from plait.data._httpclient import release, request

        offset = os.path.getsize(part) if state.get("validator") and os.path.exists(part) \
            else 0
        headers = self._headers(file)
        if offset:
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = state["validator"]
        resp = request("GET", file.url, headers, self.timeout)
        finished = False
        try:
            if resp.status == 206 and offset and _range_start(resp) == offset:
                mode = "ab"
            elif resp.status == 200:
                mode, offset = "wb", 0
            else:
                raise _failure(resp)
            etag, modified = resp.getheader("ETag"), resp.getheader("Last-Modified")
            ranges = (resp.getheader("Accept-Ranges") or "").lower() == "bytes"
            state["validator"] = (etag or modified) if ranges else None
            expected = offset + resp.length if resp.length is not None else None
            buf = memoryview(bytearray(min(CHUNK, resp.length or CHUNK) or 1))
            with open(part, mode) as out:
                while True:
                    try:
                        n = resp.readinto(buf)
                    except (OSError, http.client.HTTPException) as exc:  # the network
                        raise Transient(f"the connection broke after {out.tell()} bytes "
                                        f"({type(exc).__name__})") from None
                    if not n:
                        break
                    out.write(buf[:n])  # an OSError here is the local disk: not retried
            finished = resp.isclosed()
        finally:
            release(resp, finished)
        size = os.path.getsize(part)
        if expected is not None and size != expected:
            raise Transient(f"the transfer was cut short: got {size} of {expected} bytes")
        _check_digest(file, part)
        return {"etag": etag, "last_modified": modified, "size": size}

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        from plait.data._httpclient import release, request

        headers = self._headers(file)
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        elif meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
        resp = request("HEAD", file.url, headers, self.timeout)
        release(resp)
        if resp.status == 304:
            return True
        if resp.status != 200:
            return False
        if meta.get("etag") or meta.get("last_modified"):
            return bool(resp.getheader("ETag") == meta.get("etag")
                        and resp.getheader("Last-Modified") == meta.get("last_modified"))
        return resp.getheader("Content-Length") == str(meta.get("size"))


def _credentials(file: File) -> tuple[str, str] | None:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(file.url)
    if parts.username is not None:
        return unquote(parts.username), unquote(parts.password or "")
    import netrc

    try:
        found = netrc.netrc().authenticators(parts.hostname or "")
    except (OSError, netrc.NetrcParseError):  # no ~/.netrc, or one plait cannot read
        return None
    return (found[0] or "", found[2] or "") if found else None


def _range_start(resp: Any) -> int | None:
    value = resp.getheader("Content-Range") or ""  # bytes START-END/TOTAL
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _failure(resp: Any) -> Exception:
    cause = f"HTTP {resp.status} {resp.reason or ''}".rstrip()
    if resp.status in RETRYABLE:
        after = resp.getheader("Retry-After") or ""
        return Transient(cause, float(after) if after.isdigit() else None)
    return Permanent(cause)


def _check_digest(file: File, part: str) -> None:
    wanted = checksum_of(file.url.partition("#")[2]) if "#" in file.url else None
    if wanted is None:
        return
    algo, digest = wanted
    h = hashlib.new(algo)
    with open(part, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    if h.hexdigest() != digest:
        raise Permanent(f"{algo} of the download is {h.hexdigest()}, the URL says {digest}")


class HTTPInTaskStaging(_HTTPStaging):
    """Fetch ``http``/``https`` inputs on the worker, just before the app runs (Parsl's
    ``HTTPInTaskStaging``): no shared file system needed.

    Args:
        headers: extra request headers (an ``Authorization`` one, say); they travel with
            the task to the worker. Without one, ``user:password@`` in the URL or the
            worker's ``~/.netrc`` gives Basic auth.
        **options: as for TransferStaging (cache, cache_dir, cache_size, cache_max_age,
            attempts, backoff, timeout).
    """

    def __init__(self, **options: Any) -> None:
        super().__init__("worker", **options)


class HTTPSeparateTaskStaging(_HTTPStaging):
    """Fetch ``http``/``https`` inputs in a staging task of their own (Parsl's
    ``HTTPSeparateTaskStaging``), into the executor's ``working_dir``.

    Args:
        where: ``"pilot"`` (Parsl's behaviour: the staging task runs on the task's
            executor) or ``"submitter"`` (on the kernel's internal threads).
        headers: extra request headers, as for HTTPInTaskStaging.
        **options: as for TransferStaging.
    """

    def __init__(self, where: Literal["pilot", "submitter"] = "pilot",
                 **options: Any) -> None:
        super().__init__(separate_task_where(where, "HTTPInTaskStaging"), **options)
