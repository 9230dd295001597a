"""HTTP(S) stage-in: Parsl's HTTPInTaskStaging and HTTPSeparateTaskStaging, on urllib3.

A download streams into a part file over a pooled keep-alive connection. A try that is cut
short resumes with a range request (``If-Range`` on the ETag or Last-Modified, so a file
changed meanwhile restarts from zero); 408/429/5xx and connection errors are retried with
backoff (honouring Retry-After), other statuses fail at once. The length is checked
against Content-Length, and the content against ``#sha256=…`` (or md5, sha1, sha512) when
the URL carries one. Proxies come from the usual environment variables.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any, ClassVar, Literal

from plait.data._files import File
from plait.data._transfer import Permanent, TransferStaging, Transient, separate_task_where
from plait.data._urls import checksum_of

CHUNK = 1 << 20
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
_POOLS: dict[str | None, Any] = {}
_POOLS_LOCK = threading.Lock()


def _pool(url: str) -> Any:
    """The process's connection pool for ``url`` (a proxy's, if the environment names one)."""
    import urllib.request
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    proxy = None
    if host not in ("127.0.0.1", "localhost", "::1") and not urllib.request.proxy_bypass(host):
        proxy = urllib.request.getproxies().get(url.split(":", 1)[0].lower())
    pool = _POOLS.get(proxy)
    if pool is None:
        import urllib3

        with _POOLS_LOCK:
            pool = _POOLS.get(proxy)
            if pool is None:
                pool = _POOLS[proxy] = (
                    urllib3.ProxyManager(proxy, maxsize=16) if proxy
                    else urllib3.PoolManager(maxsize=16))
    return pool


class _HTTPStaging(TransferStaging):
    schemes: ClassVar[tuple[str, ...]] = ("http", "https")
    stages_out: ClassVar[bool] = False

    def fetch(self, file: File, part: str, state: dict[str, Any]) -> dict[str, Any]:
        import urllib3

        offset = os.path.getsize(part) if state.get("validator") and os.path.exists(part) \
            else 0
        headers = {"Accept-Encoding": "identity", "User-Agent": "plait-staging"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = state["validator"]
        resp = self._request("GET", file.url, headers)
        try:
            if resp.status == 206 and offset and _range_start(resp) == offset:
                mode = "ab"
            elif resp.status == 200:
                mode, offset = "wb", 0
            else:
                raise _failure(resp)
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
            ranges = resp.headers.get("Accept-Ranges", "").lower() == "bytes"
            state["validator"] = (etag or modified) if ranges else None
            length = resp.headers.get("Content-Length")
            expected = offset + int(length) if length and length.isdigit() else None
            with open(part, mode) as out:
                while True:
                    try:
                        chunk = resp.read(CHUNK)
                    except (urllib3.exceptions.HTTPError, OSError) as exc:  # the network
                        raise Transient(f"the connection broke after {out.tell()} bytes "
                                        f"({type(exc).__name__})") from None
                    if not chunk:
                        break
                    out.write(chunk)  # an OSError here is the local disk: not retried
        finally:
            _release(resp)
        size = os.path.getsize(part)
        if expected is not None and size != expected:
            raise Transient(f"got {size} of {expected} bytes")
        _check_digest(file, part)
        return {"etag": etag, "last_modified": modified, "size": size}

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        headers = {"Accept-Encoding": "identity", "User-Agent": "plait-staging"}
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        elif meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
        resp = self._request("HEAD", file.url, headers)
        _release(resp)
        if resp.status == 304:
            return True
        if resp.status != 200:
            return False
        if meta.get("etag") or meta.get("last_modified"):
            return bool(resp.headers.get("ETag") == meta.get("etag")
                        and resp.headers.get("Last-Modified") == meta.get("last_modified"))
        return resp.headers.get("Content-Length") == str(meta.get("size"))

    def _request(self, method: str, url: str, headers: dict[str, str]) -> Any:
        import urllib3

        try:
            return _pool(url).request(
                method, url, headers=headers, preload_content=False,
                retries=urllib3.Retry(total=False, redirect=10, raise_on_redirect=True),
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout))
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            raise Transient(f"{type(exc).__name__}: {reason}") from None


def _release(resp: Any) -> None:
    """Hand the connection back to the pool with nothing unread on it (or drop it)."""
    try:
        resp.drain_conn()
    except Exception:  # a broken connection: the pool discards it
        pass
    resp.release_conn()


def _range_start(resp: Any) -> int | None:
    value = resp.headers.get("Content-Range", "")  # bytes START-END/TOTAL
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _failure(resp: Any) -> Exception:
    cause = f"HTTP {resp.status} {resp.reason or ''}".rstrip()
    if resp.status in RETRYABLE:
        after = resp.headers.get("Retry-After", "")
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
    ``HTTPInTaskStaging``): no shared file system needed. Options as for TransferStaging
    (cache, cache_dir, cache_size, cache_max_age, attempts, backoff, timeout)."""

    def __init__(self, **options: Any) -> None:
        super().__init__("worker", **options)


class HTTPSeparateTaskStaging(_HTTPStaging):
    """Fetch ``http``/``https`` inputs in a staging task of their own (Parsl's
    ``HTTPSeparateTaskStaging``), into the executor's ``working_dir``.

    Args:
        where: ``"pilot"`` (Parsl's behaviour: the staging task runs on the task's
            executor) or ``"submitter"`` (on the kernel's internal threads).
        **options: as for TransferStaging.
    """

    def __init__(self, where: Literal["pilot", "submitter"] = "pilot",
                 **options: Any) -> None:
        super().__init__(separate_task_where(where, "HTTPInTaskStaging"), **options)
