"""The staging cache: fetched inputs kept by URL and validator, on the machine that fetched.

One cache directory per machine (a worker node, or the submitting machine), shared by all
its processes:

    DIR/ab/abcd…(sha256 of the URL).data   the file, read-only, hard-linked into tasks
    DIR/ab/abcd….json                      url, size, etag, last_modified, validated
    DIR/ab/abcd….lock                      held while one process downloads the entry

A hit is an entry whose validator the server confirms (or younger than ``max_age``, then
no request at all); a miss downloads under the entry's lock, so concurrent tasks on one
node fetch once and the others wait and hit. The ``.json`` file's mtime is the LRU clock;
after a download, entries are evicted oldest first while the cache exceeds its size limit
(entries being downloaded are skipped).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from plait.data._atomic import make_parent, place, write_whole
from plait.data._errors import redact

log = logging.getLogger(__name__)

Meta = dict[str, Any]
#: how long a process waits for another one's download of the same entry
LOCK_TIMEOUT = 24 * 3600.0


def default_dir() -> str:
    """``$PLAIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/plait/staging`` (``~/.cache``)."""
    explicit = os.environ.get("PLAIT_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "plait", "staging")


class Cache:
    """A size-limited LRU cache of fetched files in ``directory``.

    Args:
        directory: where entries live (created on first use).
        size_limit: bytes the entries may take; older ones are evicted past it.
        max_age: seconds after a validation during which an entry is used without asking
            the server (0: always revalidate).
    """

    def __init__(self, directory: str, size_limit: int, max_age: float = 0.0) -> None:
        self.directory, self.size_limit, self.max_age = directory, size_limit, max_age

    def _entry(self, url: str) -> str:
        key = hashlib.sha256(url.encode()).hexdigest()
        return os.path.join(self.directory, key[:2], key)

    def get(self, url: str, dest: str, fetch: Callable[[str], Meta | None],
            is_current: Callable[[Meta], bool]) -> bool:
        """Put the file at ``url`` at ``dest``, from the cache if it is current, else by
        ``fetch(part_path)`` (which returns the validator). Returns whether it was a hit."""
        entry = self._entry(url)
        asked = time.time()
        meta = _read_meta(entry)
        if meta is not None:
            fresh = self._fresh(meta)
            if (fresh or _confirmed(is_current, meta)) and _place_entry(entry, dest):
                if not fresh and self.max_age > 0:  # the server said yes: trust it a while
                    _touch(entry, meta)
                return True
        import filelock  # here: only transfers need it

        make_parent(entry)
        with filelock.FileLock(entry + ".lock", timeout=LOCK_TIMEOUT):
            seen, meta = meta, _read_meta(entry)
            # another process fetched it since this one looked (while it waited for the lock)
            if meta is not None and (meta["validated"] >= asked or (
                    seen is None and _confirmed(is_current, meta))) \
                    and _place_entry(entry, dest):
                return True
            meta = write_whole(entry + ".data", lambda part: self._download(part, fetch))
            meta.update(url=redact(url), size=os.path.getsize(entry + ".data"),
                        validated=time.time())
            _write_meta(entry, meta)
            place(entry + ".data", dest)
        self.evict()
        return False

    def _fresh(self, meta: Meta) -> bool:
        return self.max_age > 0 and time.time() - meta["validated"] < self.max_age

    @staticmethod
    def _download(part: str, fetch: Callable[[str], Meta | None]) -> Meta:
        meta = fetch(part) or {}
        os.chmod(part, 0o444)  # tasks get hard links: a stray write must not change the cache
        return meta

    def entries(self) -> list[Entry]:
        """Every complete entry, least recently used first."""
        found = []
        for root, _, names in os.walk(self.directory):
            for name in names:
                if name.endswith(".json"):
                    path = os.path.join(root, name[:-5])
                    try:
                        used = os.stat(path + ".json").st_mtime
                        size = os.stat(path + ".data").st_size
                    except FileNotFoundError:  # being written, or just evicted
                        continue
                    meta = _read_meta(path)
                    found.append(Entry(used, size, meta.get("url", "?") if meta else "?",
                                       path))
        return sorted(found)

    def evict(self, size_limit: int | None = None) -> tuple[int, int]:
        """Remove least recently used entries until the cache holds at most ``size_limit``
        bytes (default: its own limit; 0 empties it). Entries being downloaded are kept.
        Returns how many entries and bytes were removed."""
        import filelock

        limit = self.size_limit if size_limit is None else size_limit
        entries = self.entries()
        total = sum(e.size for e in entries)
        removed = freed = 0
        for entry in entries:
            if total <= limit:
                break
            try:
                with filelock.FileLock(entry.path + ".lock", timeout=0):
                    for suffix in (".json", ".data"):
                        if os.path.exists(entry.path + suffix):
                            os.unlink(entry.path + suffix)
            except filelock.Timeout:  # being downloaded or revalidated right now
                continue
            total -= entry.size
            removed, freed = removed + 1, freed + entry.size
            log.debug("staging cache: evicted %s (%d bytes)", entry.url, entry.size)
        return removed, freed


class Entry(NamedTuple):
    """One cached file: when it was last used (epoch seconds), its size, its URL."""

    used: float
    size: int
    url: str
    path: str


def _read_meta(entry: str) -> Meta | None:
    try:
        with open(entry + ".json") as f:
            meta: Meta = json.load(f)
    except (FileNotFoundError, ValueError):  # absent, or cut short by a crash
        return None
    return meta if isinstance(meta.get("validated"), (int, float)) else None


def _write_meta(entry: str, meta: Meta) -> None:
    def write(part: str) -> None:
        with open(part, "w") as f:
            json.dump(meta, f)

    write_whole(entry + ".json", write)


def _confirmed(is_current: Callable[[Meta], bool], meta: Meta) -> bool:
    try:
        return is_current(meta)
    except Exception:  # the server cannot say: fetch again (which reports the failure)
        log.debug("staging cache: revalidating %s failed", meta.get("url"), exc_info=True)
        return False


def _touch(entry: str, meta: Meta) -> None:
    meta["validated"] = time.time()
    _write_meta(entry, meta)


def _place_entry(entry: str, dest: str) -> bool:
    """Link the entry's file to ``dest``; False if it vanished (evicted meanwhile)."""
    try:
        place(entry + ".data", dest)
    except FileNotFoundError:
        return False
    try:
        os.utime(entry + ".json")  # the LRU clock
    except FileNotFoundError:
        pass
    return True
