"""Fixtures for the data tests: the real HTTP and FTP servers, with a fresh directory each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services import service
from staging_sites import Site, site


@pytest.fixture
def http() -> Iterator[Site]:
    """The HTTP server (services/http.sh); ``http.url`` is this test's directory."""
    yield from site("http", service("http")["URL"])


@pytest.fixture
def http_base() -> str:
    return service("http")["URL"]


@pytest.fixture
def ftp() -> Iterator[Site]:
    """The FTP server (services/ftp.sh), logged in as the read-write user."""
    s = service("ftp")
    yield from site("ftp", f"ftp://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}")
