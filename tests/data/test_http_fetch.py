"""HTTP stage-in against the real test server: faults, resume, checksums, the cache."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plait import File
from plait.data_provider.http import HTTPInTaskStaging
from plait.errors import StagingError
from services import service
from staging_sites import Site, requests_of

DATA = os.urandom(300_000)


def fetch(url: str, dest: Path, **options: object) -> bool:
    provider = HTTPInTaskStaging(backoff=0.01, cache=False, **options)  # type: ignore[arg-type]
    f = File(url)
    f.local_path = str(dest)
    return provider.fetch_here(f)



def test_fetch_is_whole_and_leaves_no_part_file(http: Site, tmp_path: Path) -> None:
    url = http.put("a.bin", DATA)
    fetch(url, tmp_path / "sub" / "a.bin")
    assert (tmp_path / "sub" / "a.bin").read_bytes() == DATA
    assert os.listdir(tmp_path / "sub") == ["a.bin"]


def test_failing_first_tries_are_retried(http: Site, http_base: str, tmp_path: Path) -> None:
    http.put("a.bin", DATA)
    url = f"{http_base}/flaky/2/{http.key}/{http.key}/a.bin"
    fetch(url, tmp_path / "a.bin", attempts=3)
    assert (tmp_path / "a.bin").read_bytes() == DATA
    assert requests_of(http_base, http.key) == 3


def test_out_of_tries_names_url_cause_and_count(http: Site, http_base: str,
                                                tmp_path: Path) -> None:
    http.put("a.bin", DATA)
    url = f"{http_base}/flaky/5/{http.key}/{http.key}/a.bin"
    with pytest.raises(StagingError) as info:
        fetch(url, tmp_path / "a.bin", attempts=2)
    text = str(info.value)
    assert url in text and "HTTP 503" in text and "2 tries" in text, text
    assert not os.listdir(tmp_path)  # nothing an app could read


def test_404_fails_at_once(http: Site, tmp_path: Path) -> None:
    url = f"{http.url}/missing.bin"
    with pytest.raises(StagingError, match=r"HTTP 404 Not Found\. ") as info:
        fetch(url, tmp_path / "m.bin", attempts=4)
    assert info.value.attempts == 1 and not os.listdir(tmp_path)


def test_403_fails_at_once(http_base: str, tmp_path: Path) -> None:
    with pytest.raises(StagingError, match="HTTP 403"):
        fetch(f"{http_base}/forbidden/x", tmp_path / "x")


def test_unreachable_server_is_retried_then_named(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    with pytest.raises(StagingError) as info:
        fetch(url, tmp_path / "x", attempts=2)
    assert "2 tries" in str(info.value) and "refused" in str(info.value).lower()


def test_cut_connection_resumes_with_a_range_request(http: Site, http_base: str,
                                                     tmp_path: Path) -> None:
    http.put("big.bin", DATA)
    url = f"{http_base}/cut/1/{http.key}/{http.key}/big.bin"
    fetch(url, tmp_path / "big.bin")
    assert (tmp_path / "big.bin").read_bytes() == DATA
    assert requests_of(http_base, http.key) == 2


def test_cut_connection_without_ranges_starts_over(http: Site, http_base: str,
                                                   tmp_path: Path) -> None:
    http.put("big.bin", DATA)
    fetch(f"{http_base}/cutnorange/{http.key}/{http.key}/big.bin", tmp_path / "big.bin")
    assert (tmp_path / "big.bin").read_bytes() == DATA


def test_checksum_in_the_url_is_checked(http: Site, tmp_path: Path) -> None:
    url = http.put("a.bin", DATA)
    good = hashlib.sha256(DATA).hexdigest()
    fetch(f"{url}#sha256={good}", tmp_path / "a.bin")
    with pytest.raises(StagingError, match="sha256 of the download is"):
        fetch(f"{url}#sha256={'0' * 64}", tmp_path / "b.bin")
    assert not (tmp_path / "b.bin").exists()


# -- the cache ---------------------------------------------------------------------------------
def cached(tmp_path: Path, **options: object) -> HTTPInTaskStaging:
    return HTTPInTaskStaging(cache_dir=str(tmp_path / "cache"), **options)  # type: ignore[arg-type]


def fetch_with(provider: HTTPInTaskStaging, url: str, dest: Path) -> bool:
    f = File(url)
    f.local_path = str(dest)
    return provider.fetch_here(f)


def test_second_fetch_is_a_hit_revalidated_by_etag(http: Site, http_base: str,
                                                   tmp_path: Path) -> None:
    http.put("a.bin", DATA)
    url = f"{http_base}/flaky/0/{http.key}/{http.key}/a.bin"
    provider = cached(tmp_path)
    assert fetch_with(provider, url, tmp_path / "1") is False
    assert fetch_with(provider, url, tmp_path / "2") is True
    assert (tmp_path / "2").read_bytes() == DATA
    assert os.stat(tmp_path / "1").st_ino == os.stat(tmp_path / "2").st_ino  # linked
    assert requests_of(http_base, http.key) == 2  # one GET, one conditional HEAD


def test_changed_file_is_fetched_again(http: Site, tmp_path: Path) -> None:
    url = http.put("a.bin", DATA)
    provider = cached(tmp_path)
    fetch_with(provider, url, tmp_path / "1")
    http.put("a.bin", b"new contents")
    assert fetch_with(provider, url, tmp_path / "2") is False
    assert (tmp_path / "2").read_bytes() == b"new contents"
    assert (tmp_path / "1").read_bytes() == DATA  # a task's copy never changes under it


def test_max_age_skips_the_server(http: Site, http_base: str, tmp_path: Path) -> None:
    http.put("a.bin", DATA)
    url = f"{http_base}/flaky/0/{http.key}/{http.key}/a.bin"
    provider = cached(tmp_path, cache_max_age=3600)
    fetch_with(provider, url, tmp_path / "1")
    assert fetch_with(provider, url, tmp_path / "2") is True
    assert requests_of(http_base, http.key) == 1


def test_concurrent_fetches_download_once(http: Site, http_base: str, tmp_path: Path) -> None:
    http.put("a.bin", DATA)
    url = f"{http_base}/flaky/0/{http.key}/{http.key}/a.bin"
    provider = cached(tmp_path)
    results: list[bool] = []
    start = threading.Barrier(6)

    def one(i: int) -> None:
        start.wait(timeout=10)
        results.append(fetch_with(provider, url, tmp_path / f"t{i}"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False] + [True] * 5
    assert all((tmp_path / f"t{i}").read_bytes() == DATA for i in range(6))
    assert requests_of(http_base, f"{http.key}:GET") == 1


def test_processes_on_one_node_download_once(http: Site, http_base: str,
                                             tmp_path: Path) -> None:
    """The cache's file lock works across processes, as worker processes on a node need."""
    import subprocess
    import sys

    http.put("a.bin", DATA)
    url = f"{http_base}/flaky/0/{http.key}/{http.key}/a.bin"
    code = ("import sys; from plait import File; "
            "from plait.data_provider.http import HTTPInTaskStaging as H; "
            "f = File(sys.argv[1]); f.local_path = sys.argv[3]; "
            "print(H(cache_dir=sys.argv[2]).fetch_here(f))")
    procs = [subprocess.Popen([sys.executable, "-c", code, url, str(tmp_path / "cache"),
                               str(tmp_path / f"p{i}")], stdout=subprocess.PIPE, text=True)
             for i in range(4)]
    hits = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(hits) == ["False", "True", "True", "True"]
    assert requests_of(http_base, f"{http.key}:GET") == 1
    assert all((tmp_path / f"p{i}").read_bytes() == DATA for i in range(4))


def test_size_limit_evicts_least_recently_used(http: Site, tmp_path: Path) -> None:
    urls = [http.put(f"f{i}", bytes([i]) * 1000) for i in range(4)]
    provider = cached(tmp_path, cache_size=2500)
    for i, url in enumerate(urls[:2]):
        fetch_with(provider, url, tmp_path / f"a{i}")
    fetch_with(provider, urls[0], tmp_path / "again0")  # f0 is now the most recent
    fetch_with(provider, urls[2], tmp_path / "a2")      # over the limit: f1 goes
    kept = sorted(p.name for p in (tmp_path / "cache").rglob("*.data"))
    assert len(kept) == 2
    assert fetch_with(provider, urls[0], tmp_path / "b0") is True
    assert fetch_with(provider, urls[1], tmp_path / "b1") is False


# -- HTTPS and proxies ------------------------------------------------------------------------
@pytest.fixture
def fresh_tls(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Connections and the TLS context are per process: start each test without them."""
    from plait.data import _httpclient

    monkeypatch.setattr(_httpclient, "_ssl_context", None)
    monkeypatch.setattr(_httpclient, "_local", threading.local())
    yield monkeypatch


def test_https_with_the_servers_ca(http: Site, fresh_tls: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    s = service("http")
    http.put("a.bin", DATA)
    fresh_tls.setenv("SSL_CERT_FILE", s["CA_FILE"])
    fetch(f"{s['HTTPS_URL']}/{http.key}/a.bin", tmp_path / "a.bin")
    assert (tmp_path / "a.bin").read_bytes() == DATA


def test_untrusted_certificate_fails_at_once(http: Site, fresh_tls: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    s = service("http")
    http.put("a.bin", DATA)
    fresh_tls.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(StagingError, match="certificate was not accepted") as info:
        fetch(f"{s['HTTPS_URL']}/{http.key}/a.bin", tmp_path / "a.bin", attempts=3)
    assert info.value.attempts == 1


def test_http_proxy_from_the_environment(http: Site, fresh_tls: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    """A forward proxy (in this test) sees the request for a non-loopback-named host."""
    from http.client import HTTPConnection
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    seen: list[str] = []
    upstream = urlsplit(service("http")["URL"])

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            conn = HTTPConnection(upstream.hostname, upstream.port, timeout=10)
            conn.request("GET", urlsplit(self.path).path)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            self.send_response(resp.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        http.put("a.bin", DATA)
        fresh_tls.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
        url = f"http://data.example.org:{upstream.port}/{http.key}/a.bin"
        fetch(url, tmp_path / "a.bin")
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert seen == [url] and (tmp_path / "a.bin").read_bytes() == DATA


# -- authentication ----------------------------------------------------------------------------
def test_a_bearer_token_in_headers(http: Site, http_base: str, tmp_path: Path) -> None:
    http.put("secret.bin", DATA)
    url = f"{http_base}/auth/tok3n/{http.key}/secret.bin"
    fetch(url, tmp_path / "a.bin", headers={"Authorization": "Bearer tok3n"})
    assert (tmp_path / "a.bin").read_bytes() == DATA


def test_basic_auth_from_the_url_or_netrc(http: Site, http_base: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    http.put("secret.bin", DATA)
    host_port = http_base.split("//")[1]
    fetch(f"http://plait:pw@{host_port}/auth/pw/{http.key}/secret.bin", tmp_path / "a.bin")
    assert (tmp_path / "a.bin").read_bytes() == DATA
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login plait password from-netrc\n")
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    fetch(f"{http_base}/auth/from-netrc/{http.key}/secret.bin", tmp_path / "b.bin")
    assert (tmp_path / "b.bin").read_bytes() == DATA


def test_no_credentials_is_a_401_at_once(http: Site, http_base: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    http.put("secret.bin", DATA)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    with pytest.raises(StagingError, match="HTTP 401 Unauthorized") as info:
        fetch(f"{http_base}/auth/x/{http.key}/secret.bin", tmp_path / "a.bin", attempts=3)
    assert info.value.attempts == 1


def test_redirects_are_followed_without_handing_credentials_to_another_host(
        http: Site, http_base: str, tmp_path: Path) -> None:
    http.put("secret.bin", DATA)
    auth = {"Authorization": "Bearer t0k"}
    same = f"{http_base}/redirect/127.0.0.1/auth/t0k/{http.key}/secret.bin"
    fetch(same, tmp_path / "a.bin", headers=auth)
    assert (tmp_path / "a.bin").read_bytes() == DATA
    other = f"{http_base}/redirect/localhost/auth/t0k/{http.key}/secret.bin"
    with pytest.raises(StagingError, match="HTTP 401"):
        fetch(other, tmp_path / "b.bin", headers=auth)


def test_an_unusable_cache_or_destination_is_a_staging_error(http: Site,
                                                             tmp_path: Path) -> None:
    url = http.put("a.bin", DATA)
    (tmp_path / "plain-file").write_text("not a directory")
    bad_cache = HTTPInTaskStaging(cache_dir=str(tmp_path / "plain-file" / "cache"))
    with pytest.raises(StagingError, match=r"staging cache is .*plain-file/cache"):
        fetch_with(bad_cache, url, tmp_path / "ok.bin")
    with pytest.raises(StagingError, match=r"File exists|Not a directory"):
        fetch(url, tmp_path / "plain-file" / "a.bin")
