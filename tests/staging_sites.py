"""The real HTTP and FTP servers as the data tests see them: a fresh directory per test."""

from __future__ import annotations

import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services import service


@dataclass
class Site:
    """A server's URL for this test's directory, and that directory on disk."""

    url: str
    root: Path
    key: str  # a token the fault routes count requests by

    def put(self, name: str, data: bytes) -> str:
        """Write ``data`` under this test's directory; return the file's URL."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return f"{self.url}/{name}"


def site(name: str, base: str) -> Iterator[Site]:
    settings = service(name)
    key = uuid.uuid4().hex[:12]
    root = Path(settings["ROOT"]) / key
    root.mkdir()
    yield Site(f"{base}/{key}", root, key)
    shutil.rmtree(root, ignore_errors=True)


def requests_of(http_base: str, key: str) -> int:
    """How many requests the HTTP test server has had for ``key`` (``KEY:GET``: GETs only)."""
    with urllib.request.urlopen(f"{http_base}/count/{key}", timeout=10) as r:
        return int(r.read())
