"""FTP stage-in and stage-out against the real pyftpdlib server (services/ftp.sh)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plait import File
from plait.data_provider.ftp import FTPInTaskStaging
from plait.errors import StagingError
from services import service
from staging_sites import Site

DATA = os.urandom(200_000)


def provider(tmp_path: Path, **options: object) -> FTPInTaskStaging:
    return FTPInTaskStaging(cache_dir=str(tmp_path / "cache"), backoff=0.01,
                            **options)  # type: ignore[arg-type]


def file_at(url: str, local: Path) -> File:
    f = File(url)
    f.local_path = str(local)
    return f


def test_fetch_then_cache_hit_validated_by_size_and_mdtm(ftp: Site, tmp_path: Path) -> None:
    url = ftp.put("in/a.bin", DATA)
    p = provider(tmp_path)
    assert p.fetch_here(file_at(url, tmp_path / "a1")) is False
    assert p.fetch_here(file_at(url, tmp_path / "a2")) is True
    assert (tmp_path / "a2").read_bytes() == DATA


def test_anonymous_login_reads(ftp: Site, tmp_path: Path) -> None:
    s = service("ftp")
    ftp.put("pub.txt", b"public")
    url = f"ftp://{s['HOST']}:{s['PORT']}/{ftp.key}/pub.txt"
    provider(tmp_path, cache=False).fetch_here(file_at(url, tmp_path / "pub.txt"))
    assert (tmp_path / "pub.txt").read_bytes() == b"public"


def test_push_creates_directories_and_renames_into_place(ftp: Site, tmp_path: Path) -> None:
    src = tmp_path / "result.bin"
    src.write_bytes(DATA)
    url = f"{ftp.url}/out/deep/result.bin"
    provider(tmp_path).push_here(file_at(url, src))
    assert (ftp.root / "out/deep/result.bin").read_bytes() == DATA
    assert os.listdir(ftp.root / "out/deep") == ["result.bin"]  # no part file left


def test_missing_file_fails_at_once_naming_it(ftp: Site, tmp_path: Path) -> None:
    url = f"{ftp.url}/nothing.bin"
    with pytest.raises(StagingError, match="550") as info:
        provider(tmp_path, attempts=3).fetch_here(file_at(url, tmp_path / "n"))
    assert info.value.attempts == 1 and url.replace(":plait-test@", ":***@") in str(info.value)
    assert "plait-test" not in repr(info.value)  # no password, even in the pickled args
    assert not (tmp_path / "n").exists()


def test_upload_without_permission_is_a_clear_error(ftp: Site, tmp_path: Path) -> None:
    s = service("ftp")
    src = tmp_path / "r.bin"
    src.write_bytes(b"x")
    url = (f"ftp://{s['READER']}:{s['READER_PASSWORD']}@{s['HOST']}:{s['PORT']}/"
           f"{ftp.key}/r.bin")
    with pytest.raises(StagingError, match=r"refused.*550") as info:
        provider(tmp_path).push_here(file_at(url, src))
    assert info.value.direction == "out" and not (ftp.root / "r.bin").exists()


def test_wrong_password_is_not_retried(ftp: Site, tmp_path: Path) -> None:
    s = service("ftp")
    url = f"ftp://plait:wrong@{s['HOST']}:{s['PORT']}/{ftp.key}/x"
    with pytest.raises(StagingError, match="530") as info:
        provider(tmp_path, attempts=3).fetch_here(file_at(url, tmp_path / "x"))
    assert info.value.attempts == 1


def test_push_of_a_file_the_task_did_not_write(ftp: Site, tmp_path: Path) -> None:
    with pytest.raises(StagingError, match="did not create"):
        provider(tmp_path).push_here(file_at(f"{ftp.url}/x", tmp_path / "never"))
