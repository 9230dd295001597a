"""The site registry: entries shipped with plait, fetched from a remote index, or the
user's own, and how an entry becomes a Config.

    shipped   <package>/sites/entries/*.toml
    remote    $XDG_CACHE_HOME/plait/sites/entries/  (written by `plait sites update`)
    user      $XDG_CONFIG_HOME/plait/sites/   (written by `plait sites add`)

A name found in several places is taken from the last of these: a user's entry overrides
a fetched one, which overrides the shipped one.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from plait.sites import _toml as tomllib
from plait.sites._errors import SiteError
from plait.sites._schema import SiteEntry, parse_entry

SHIPPED_DIR = Path(__file__).parent / "entries"


def user_dir() -> Path:
    """Where ``plait sites add`` puts the user's entries."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "plait" / "sites"


def cache_dir() -> Path:
    """Where ``plait sites update`` keeps the remote index (entries in ``entries/``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "plait" / "sites"


def read_entry(path: str | Path, origin: str = "user") -> SiteEntry:
    """Read and validate one entry file.

    Raises:
        SiteError: the file cannot be read, is not TOML, or breaks the schema.
    """
    where = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise SiteError(where, "", f"cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(where, "", f"is not valid TOML: {exc}") from None
    return parse_entry(data, where, origin)


def _entries_in(directory: Path, origin: str) -> Iterator[SiteEntry]:
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.toml")):
        if origin == "shipped":
            yield read_entry(path, origin)  # a broken shipped entry is a plait bug: raise
            continue
        try:
            yield read_entry(path, origin)
        except SiteError as exc:  # one broken user file must not hide every other site
            warnings.warn(f"site entry skipped: {exc}", stacklevel=3)


def all_entries() -> dict[str, SiteEntry]:
    """Every entry by name, sorted; later sources override earlier ones (see the module)."""
    found: dict[str, SiteEntry] = {}
    for directory, origin in ((SHIPPED_DIR, "shipped"), (cache_dir() / "entries", "remote"),
                              (user_dir(), "user")):
        for entry in _entries_in(directory, origin):
            found[entry.name] = entry
    return dict(sorted(found.items()))


def list_sites() -> list[SiteEntry]:
    """Every site entry known here, by name."""
    return list(all_entries().values())


def show(name: str) -> SiteEntry:
    """The entry called ``name``.

    Raises:
        SiteError: no such entry; the message lists the known names.
    """
    entries = all_entries()
    entry = entries.get(name)
    if entry is None:
        raise SiteError("site registry", name, f"no site called {name!r}; known sites: "
                        f"{', '.join(entries)}. Add your own with `plait sites add FILE`.")
    return entry


def add(entry: str | Path | dict[str, Any]) -> Path:
    """Validate an entry (a file path or a decoded dict) and copy it into the user's
    directory as ``<name>.toml``; return where it went."""
    if isinstance(entry, dict):
        parsed = parse_entry(entry, "<entry>", "user")
        text = dumps_toml(entry)
    else:
        parsed = read_entry(entry)
        text = Path(entry).read_text()
    target = user_dir() / f"{parsed.name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".toml.tmp")
    tmp.write_text(text)
    os.replace(tmp, target)
    return target


def dumps_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A plain TOML rendering of a decoded entry (tables, arrays of tables, scalars)."""
    import datetime
    import json

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, datetime.date):
            return v.isoformat()
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))  # a JSON string is a valid TOML basic string

    scalars = [f"{k} = {value(v)}" for k, v in data.items()
               if not isinstance(v, dict) and not _is_table_list(v)]
    parts = ["\n".join(scalars)] if scalars else []
    for k, v in data.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            parts.append(f"[{name}]\n" + dumps_toml(v, f"{name}.").strip())
        elif _is_table_list(v):
            parts.extend(f"[[{name}]]\n" + dumps_toml(item, f"{name}.").strip() for item in v)
    return "\n\n".join(p for p in parts if p) + "\n"


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)
