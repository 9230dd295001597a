"""File URL parsing: every scheme plait stages, and a clear error for each malformed form."""

from __future__ import annotations

import pickle

import pytest

from plait import File
from plait.errors import FileURLError, NoStagingProvider, StagingError, ZipAuthorityError

SHA = "a" * 64


@pytest.mark.parametrize("url,scheme,netloc,path,filename", [
    ("in.txt", "file", "", "in.txt", "in.txt"),
    ("/abs/dir/in.txt", "file", "", "/abs/dir/in.txt", "in.txt"),
    ("data#1?.txt", "file", "", "data#1?.txt", "data#1?.txt"),  # a path is never split
    ("file:///abs/in.txt", "file", "", "/abs/in.txt", "in.txt"),
    ("file://localhost/abs/in.txt", "file", "localhost", "/abs/in.txt", "in.txt"),
    ("http://example.org/d/x.csv?v=2", "http", "example.org", "/d/x.csv", "x.csv"),
    (f"https://h:8443/x.tar#sha256={SHA}", "https", "h:8443", "/x.tar", "x.tar"),
    ("http://[::1]:8080/x", "http", "[::1]:8080", "/x", "x"),
    ("ftp://anonymous@ftp.h/pub/a.dat", "ftp", "anonymous@ftp.h", "/pub/a.dat", "a.dat"),
    ("ftp://u:pw@h:2121/a.dat", "ftp", "u:pw@h:2121", "/a.dat", "a.dat"),
    ("rsync://me@cluster:2222/scratch/a", "rsync", "me@cluster:2222", "/scratch/a", "a"),
    ("me@cluster:runs/a.out", "rsync", "me@cluster", "runs/a.out", "a.out"),
    ("me@cluster:/abs/a.out", "rsync", "me@cluster", "/abs/a.out", "a.out"),
    ("globus://ddb59aef-6d04/~/data/a", "globus", "ddb59aef-6d04", "/~/data/a", "a"),
    ("s3://bucket/k/e/y.bin", "s3", "bucket", "/k/e/y.bin", "y.bin"),
    ("zip:/tmp/a.zip/inner/x.txt", "zip", "", "/tmp/a.zip/inner/x.txt", "x.txt"),
    ("sp2://test", "sp2", "test", "", ""),  # a user's own scheme: parsed, checked at submit
])
def test_each_scheme_parses(url: str, scheme: str, netloc: str, path: str,
                            filename: str) -> None:
    f = File(url)
    assert (f.url, f.scheme, f.netloc, f.path, f.filename) == (url, scheme, netloc, path,
                                                               filename)
    assert f.local_path is None
    assert pickle.loads(pickle.dumps(f)).path == path


#: (url, what the message must say); every message also names the URL and the schemes
MALFORMED = [
    ("", "empty string"),
    ("a\x00b", "NUL"),
    ("http://", "needs a host"),
    ("https:///x", "needs a host"),
    ("http://bad host/x", "not a host name"),
    ("http://h:0/x", "port '0'"),
    ("http://h:99999/x", "port '99999'"),
    ("http://h:http/x", "port 'http'"),
    ("http://[::1/x", "not a valid URL"),
    ("http://h/x#frag", "not a checksum"),
    ("http://h/x#sha256=abc", "not a checksum"),
    ("ftp:///a", "needs a host"),
    ("ftp://h/", "path after the host"),
    ("rsync://h", "path after the host"),
    ("me@cluster:", "needs a path"),
    ("globus:///x", "needs an endpoint"),
    ("globus://ep/", "path on the endpoint"),
    ("s3:///k", "needs a bucket"),
    ("s3://b", "object key"),
    ("zip:/a/b.txt", "archive and a member"),
    ("zip:/a/b.zip/", "archive and a member"),
    ("file://otherhost/x", "not host 'otherhost'"),
]


@pytest.mark.parametrize("url,says", MALFORMED)
def test_malformed_url_names_itself_and_the_supported_schemes(url: str, says: str) -> None:
    with pytest.raises(FileURLError) as info:
        File(url)
    message = str(info.value)
    assert says in message and repr(url) in message
    assert "http, https" in message and "zip" in message
    assert isinstance(info.value, ValueError)  # Parsl raised ValueError for bad files
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == message


def test_zip_with_an_authority_parses_and_is_refused_when_staged() -> None:
    f = File("zip://host/a.zip/x")  # Parsl raises ZipAuthorityError at the app call
    assert (f.scheme, f.netloc) == ("zip", "host")


@pytest.mark.parametrize("bad", [3, None, b"/bytes/path"])
def test_non_path_arguments_are_type_errors(bad: object) -> None:
    with pytest.raises(TypeError, match=r"path or URL|str path"):
        File(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("err", [
    StagingError("http://h/x", "in", "HTTP 404 Not Found", 3, "/w/x"),
    StagingError("ftp://h/x", "out", "550 Permission denied"),
    NoStagingProvider("sp3://x", "threads", "in", ["file", "http"]),
    ZipAuthorityError("zip://h/a.zip/x"),
], ids=lambda e: type(e).__name__)
def test_data_errors_round_trip_through_pickle(err: Exception) -> None:
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err) and str(copy) == str(err)


def test_staging_error_names_url_cause_tries_and_path() -> None:
    text = str(StagingError("http://h/x", "in", "HTTP 404 Not Found", 3, "/w/x"))
    for part in ("http://h/x", "HTTP 404 Not Found", "3 tries", "/w/x", "no partial file"):
        assert part in text


def test_passwords_in_urls_never_reach_messages() -> None:
    staging = str(StagingError("ftp://me:s3cret@h/x", "in", "550 no such file", 1))
    with pytest.raises(FileURLError) as info:
        File("ftp://me:s3cret@h/")
    for text in (staging, str(info.value), repr(info.value)):
        assert "s3cret" not in text and "ftp://me:***@h/" in text
