"""``plait cache``: lists what the staging cache holds, empties it or trims it."""

from __future__ import annotations

from pathlib import Path

import pytest

from plait import File
from plait.cli._main import main
from plait.data_provider.http import HTTPInTaskStaging
from staging_sites import Site


def test_list_trim_and_clear(http: Site, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    provider = HTTPInTaskStaging(cache_dir=str(cache))
    urls = [http.put(f"f{i}.bin", bytes(1000 * (i + 1))) for i in range(3)]
    for i, url in enumerate(urls):
        f = File(url)
        f.local_path = str(tmp_path / f"f{i}")
        provider.fetch_here(f)
    assert main(["cache", "--dir", str(cache)]) == 0
    listing = capsys.readouterr().out
    assert all(url in listing for url in urls) and "3 entries, 6.0 kB" in listing
    assert listing.index(urls[2]) < listing.index(urls[0])  # most recently used first
    assert main(["cache", "--dir", str(cache), "--max-size", "5000"]) == 0
    assert "removed 1 entries (1.0 kB)" in capsys.readouterr().out
    assert main(["cache", "--dir", str(cache), "--clear"]) == 0
    assert "removed 2 entries (5.0 kB)" in capsys.readouterr().out
    assert main(["cache", "--dir", str(cache)]) == 0
    assert "0 entries, 0 B" in capsys.readouterr().out
    assert (tmp_path / "f2").read_bytes() == bytes(3000)  # tasks' copies are untouched
