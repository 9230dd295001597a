"""`plait sites update`: a remote index (HTTP on a free loopback port, or a git repository)
is fetched, checked and cached in one step; a bad index leaves the old cache as it was."""

from __future__ import annotations

import functools
import hashlib
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plait import sites
from plait.cli._main import main
from plait.sites import SiteError
from plait.sites._registry import cache_dir, dumps_toml

ENTRY = {
    "name": "remote_site", "title": "A site from the index", "docs": "https://example.org/",
    "scheduler": "local", "auth": "none",
    "checked": {"date": "2026-11-29", "scheduler_version": "bash 5.2", "method": "run"},
    "executor": {"kind": "ThreadPoolExecutor", "max_threads": 3},
}


@pytest.fixture(autouse=True)
def own_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PLAIT_SITES_INDEX", raising=False)


def publish(root: Path, entries: list[dict[str, object]], digest_of: str | None = None) -> None:
    """Write an index and its entry files under ``root``."""
    lines = []
    for entry in entries:
        text = dumps_toml(entry)
        (root / f"{entry['name']}.toml").write_text(text)
        digest = hashlib.sha256((digest_of or text).encode()).hexdigest()
        lines.append(f'[[sites]]\nname = "{entry["name"]}"\nfile = "{entry["name"]}.toml"\n'
                     f'sha256 = "{digest}"\n')
    (root / "index.toml").write_text("\n".join(lines))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server for ``root`` on a free port of 127.0.0.1."""
    root = tmp_path / "published"
    root.mkdir()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/index.toml", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_update_fetches_validates_and_caches(server: tuple[str, Path]) -> None:
    url, root = server
    publish(root, [ENTRY])
    entries = sites.update(url, timeout=10)
    assert [e.name for e in entries] == ["remote_site"]
    entry = sites.show("remote_site")
    assert entry.origin == "remote" and (cache_dir() / "entries/remote_site.toml").exists()
    assert sites.config("remote_site").executor_list[0].max_threads == 3
    # the URL is remembered: a second update needs none, and sees the new version
    publish(root, [{**ENTRY, "title": "Changed"}])
    sites.update(timeout=10)
    assert sites.show("remote_site").title == "Changed"


@pytest.mark.parametrize(("breakage", "message"), [
    ("digest", "sha256: the file's digest does not match the index"),
    ("schema", "scheduler: 'moon' is not allowed"),
    ("missing", "remote_site.toml: could not be fetched (HTTP 404 File not found)"),
])
def test_failed_update_keeps_the_old_cache(server: tuple[str, Path], breakage: str,
                                           message: str) -> None:
    url, root = server
    publish(root, [ENTRY])
    sites.update(url, timeout=10)
    if breakage == "digest":
        publish(root, [ENTRY], digest_of="something else")
    elif breakage == "schema":
        publish(root, [{**ENTRY, "scheduler": "moon"}])
    else:
        (root / "remote_site.toml").unlink()
    with pytest.raises(SiteError) as info:
        sites.update(url, timeout=10)
    assert message in str(info.value)
    assert sites.show("remote_site").title == "A site from the index"


def test_update_without_url_says_how_to_give_one() -> None:
    with pytest.raises(SiteError, match=r"give its URL .* or set \$PLAIT_SITES_INDEX"):
        sites.update()


def test_update_from_a_git_repository(tmp_path: Path) -> None:
    repo = tmp_path / "sites-repo"
    repo.mkdir()
    publish(repo, [ENTRY])
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=30)
    subprocess.run([*git, "add", "."], check=True, timeout=30)
    subprocess.run([*git, "commit", "-q", "-m", "sites"], check=True, timeout=30)
    entries = sites.update(f"git+file://{repo}", timeout=30)
    assert [e.name for e in entries] == ["remote_site"]


def test_cli(server: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
             ) -> None:
    url, root = server
    publish(root, [ENTRY])
    assert main(["sites", "update", url]) == 0
    assert "fetched 1 site entries: remote_site" in capsys.readouterr().out
    assert main(["sites", "list"]) == 0
    listing = capsys.readouterr().out
    assert "remote_site" in listing and "htex_local" in listing and "LAST CHECKED" in listing
    assert main(["sites", "show", "delta"]) == 0
    assert "plait.sites.config('delta', account=...)" in capsys.readouterr().out
    mine = tmp_path / "mine.toml"
    mine.write_text(dumps_toml({**ENTRY, "name": "mine"}))
    assert main(["sites", "validate", str(mine)]) == 0
    assert main(["sites", "add", str(mine)]) == 0
    assert "installed" in capsys.readouterr().out
    mine.write_text(dumps_toml({**ENTRY, "auth": "password123"}))
    assert main(["sites", "validate", str(mine)]) == 1
    assert "auth: 'password123' is not allowed" in capsys.readouterr().err
