"""Fetching a remote index of site entries into the local cache (``plait sites update``).

The index is a TOML file at an HTTP(S) URL, or ``index.toml`` at the top of a git
repository (a URL ending in ``.git`` or starting with ``git+``)::

    [[sites]]
    name = "delta"
    file = "delta.toml"          # relative to the index
    sha256 = "…"                 # optional: the file's digest, checked

Every entry is fetched and validated before the cache is replaced, in one rename: a failed
update leaves the previous cache as it was. The URL is remembered, so a later
``plait sites update`` needs none.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from plait.sites import _toml as tomllib
from plait.sites._errors import SiteError
from plait.sites._registry import cache_dir
from plait.sites._schema import SiteEntry, parse_entry

INDEX_ENV = "PLAIT_SITES_INDEX"
_SOURCE = "source.toml"  # in the cache: where it came from, and when


def _http_reader(url: str, timeout: float) -> Callable[[str], bytes]:
    def read(relative: str) -> bytes:
        target = urllib.parse.urljoin(url, relative)
        try:
            with urllib.request.urlopen(target, timeout=timeout) as reply:
                data: bytes = reply.read()
                return data
        except urllib.error.HTTPError as exc:
            raise SiteError(target, "", f"could not be fetched (HTTP {exc.code} "
                            f"{exc.reason})") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SiteError(target, "", f"could not be fetched ({reason})") from None
    return read


def _git_reader(url: str, workdir: str, timeout: float) -> Callable[[str], bytes]:
    repo = url.removeprefix("git+")
    checkout = os.path.join(workdir, "repo")
    try:
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", repo, checkout],
                       check=True, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise SiteError(url, "", "needs git to fetch, and git is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise SiteError(url, "", f"git clone failed: {exc.stderr.strip()}") from None
    except subprocess.TimeoutExpired:
        raise SiteError(url, "", f"git clone took longer than {timeout} s") from None

    def read(relative: str) -> bytes:
        path = os.path.normpath(os.path.join(checkout, relative))
        if not path.startswith(checkout + os.sep):
            raise SiteError(url, relative, "points outside the repository")
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise SiteError(url, relative, f"cannot be read ({exc.strerror})") from None
    return read


def remembered_url() -> str | None:
    """The index URL of the last successful update, if any."""
    path = cache_dir() / _SOURCE
    if not path.exists():
        return None
    url = tomllib.loads(path.read_text()).get("url")
    return url if isinstance(url, str) else None


def update(url: str | None = None, timeout: float = 30.0) -> list[SiteEntry]:
    """Fetch the index at ``url`` (default: ``$PLAIT_SITES_INDEX``, else the last one used)
    and every entry it lists; validate them all, then replace the cache. Returns the entries.

    Raises:
        SiteError: no URL, a file that cannot be fetched, a digest mismatch, or an entry that
            breaks the schema (the old cache is kept).
    """
    url = url or os.environ.get(INDEX_ENV) or remembered_url()
    if not url:
        raise SiteError("plait sites update", "url", "no index to fetch: give its URL "
                        f"(plait sites update URL) or set ${INDEX_ENV}")
    cache = cache_dir()
    cache.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache.parent, prefix=".sites-") as work:
        is_git = url.startswith("git+") or url.endswith(".git")
        read = _git_reader(url, work, timeout) if is_git else _http_reader(url, timeout)
        index_text = read("index.toml" if is_git else url)
        entries, files = _fetch_entries(url, index_text, read)
        staged = Path(work) / "staged"
        (staged / "entries").mkdir(parents=True)
        for name, data in files.items():
            (staged / "entries" / name).write_bytes(data)
        (staged / "index.toml").write_bytes(index_text)
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        (staged / _SOURCE).write_text(f'url = "{url}"\nfetched = "{now}"\n')
        old = Path(work) / "old"
        if cache.exists():
            os.rename(cache, old)
        os.rename(staged, cache)
        shutil.rmtree(old, ignore_errors=True)
    return entries


def _fetch_entries(url: str, index_text: bytes, read: Callable[[str], bytes]
                   ) -> tuple[list[SiteEntry], dict[str, bytes]]:
    try:
        index = tomllib.loads(index_text.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SiteError(url, "", f"is not a TOML index: {exc}") from None
    sites = index.get("sites")
    if not isinstance(sites, list) or not all(isinstance(s, dict) for s in sites):
        raise SiteError(url, "sites", "expected [[sites]] tables with name and file")
    entries, files = [], {}
    for item in sites:
        relative = item.get("file")
        if not isinstance(relative, str) or not relative.endswith(".toml"):
            raise SiteError(url, "sites.file", f"expected a .toml path, got {relative!r}")
        data = read(relative)
        digest = item.get("sha256")
        if digest is not None and hashlib.sha256(data).hexdigest() != digest:
            raise SiteError(urllib.parse.urljoin(url, relative), "sha256",
                            "the file's digest does not match the index: not installed")
        where = urllib.parse.urljoin(url, relative)
        try:
            decoded = tomllib.loads(data.decode())
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SiteError(where, "", f"is not valid TOML: {exc}") from None
        entry = parse_entry(decoded, where, "remote")
        if item.get("name", entry.name) != entry.name:
            raise SiteError(where, "name", f"is {entry.name!r} but the index calls it "
                            f"{item.get('name')!r}")
        entries.append(entry)
        files[f"{entry.name}.toml"] = data
    return entries, files
