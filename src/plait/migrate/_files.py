"""Migrating files: Python scripts and packages, and notebooks cell by cell.

A notebook is JSON (nbformat 4): code cells are rewritten like scripts. IPython's magics
that run Python (``%%time`` and ``%%timeit`` cells, ``%time parsl.load(config)`` lines) have
their Python rewritten too; other cell magics (``%%bash`` …) are left alone; in other line
magics and shell escapes (``!pip install parsl``) only an install of the ``parsl`` package
becomes ``plait``. Markdown cells are prose and stay as they are.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plait.migrate._differences import Finding, find_differences
from plait.migrate._source import Untokenizable, migrate_source

_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "env", "node_modules",
              ".ipynb_checkpoints", ".tox", ".mypy_cache", "build", "dist"}
#: in a line magic or shell escape: `pip install parsl`, `parsl[monitoring]`, `parsl==2024.1`
_PIP_PARSL = re.compile(r"(?<=\s)parsl(?=$|[\s\[=<>~!])")
#: IPython magics whose argument (line magic) or body (cell magic) is Python code
_PYTHON_MAGICS = frozenset({"time", "timeit", "prun", "capture", "debug"})
#: a line magic (``%time x``) or the first line of a cell magic (``%%timeit -n1``)
_MAGIC = re.compile(r"^(?P<lead>\s*%{1,2}(?P<name>\w+))(?P<rest>.*)$", re.DOTALL)


@dataclass
class FileResult:
    """What migrating one file changes and meets."""

    path: Path
    before: str
    after: str
    changes: int = 0
    findings: list[tuple[str, Finding]] = field(default_factory=list)  # (where, finding)
    error: str | None = None

    @property
    def changed(self) -> bool:
        """True if migrating changed the file's text."""
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the change (for notebooks: of the notebook's JSON text)."""
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            f"a/{str(self.path).lstrip('/')}", f"b/{str(self.path).lstrip('/')}"))


def _read(path: Path) -> tuple[str, str | None]:
    try:
        return path.read_text(encoding="utf-8"), None
    except UnicodeDecodeError as exc:
        return "", f"not migrated: not UTF-8 text ({exc.reason} at byte {exc.start})"


def migrate_python(path: Path) -> FileResult:
    """Migrate one Python file (nothing is written)."""
    before, error = _read(path)
    result = FileResult(path, before, before, error=error)
    if error:
        return result
    try:
        result.after, changes = migrate_source(before)
    except Untokenizable as exc:
        result.error = f"not migrated: the tokenizer cannot read it ({exc})"
        return result
    result.changes = len(changes)
    result.findings = [(str(path), f) for f in find_differences(result.after)]
    return result


def _cell_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _set_cell_text(cell: dict[str, Any], text: str) -> None:
    if isinstance(cell.get("source"), list):
        cell["source"] = text.splitlines(keepends=True)
    else:
        cell["source"] = text


def _python_magic(line: str) -> tuple[str, str] | None:
    """``(magic, its Python)`` if ``line`` starts a magic that runs Python, else None."""
    match = _MAGIC.match(line)
    if match is None or match["name"] not in _PYTHON_MAGICS:
        return None
    return match["lead"], match["rest"]


def _migrate_magic_line(line: str) -> str:
    """A line magic or shell escape rewritten: the Python a ``%time``-like magic runs, or a
    ``pip install parsl``; anything else stays."""
    magic = _python_magic(line)
    if magic is not None and not line.lstrip().startswith("%%"):
        lead, rest = magic
        try:
            return lead + migrate_source(rest)[0]
        except Untokenizable:
            return line
    return _PIP_PARSL.sub("plait", line) if "install" in line else line


def migrate_cell(text: str) -> tuple[str, int]:
    """One code cell's source rewritten, and the number of changes."""
    if text.lstrip().startswith("%%"):
        first, newline, body = text.partition("\n")
        if _python_magic(first) is None:
            return text, 0  # a cell magic whose body is not Python (%%bash, %%html, …)
        migrated, count = migrate_cell(body)  # %%time: the body is a cell of its own
        return first + newline + migrated, count
    lines = text.splitlines(keepends=True)
    magic = [i for i, line in enumerate(lines) if line.lstrip().startswith(("%", "!"))]
    # tokenize the Python lines with the magic lines blanked, so line numbers stay right
    python = "".join("\n" if i in magic else line for i, line in enumerate(lines))
    migrated, changes = migrate_source(python)
    out = migrated.splitlines(keepends=True)
    count = len(changes)
    for i in magic:
        new = _migrate_magic_line(lines[i])
        count += new != lines[i]
        out[i] = new
    return "".join(out), count


def migrate_notebook(path: Path) -> FileResult:
    """Migrate one notebook's code cells (nothing is written)."""
    before, error = _read(path)
    result = FileResult(path, before, before, error=error)
    if error:
        return result
    try:
        notebook = json.loads(before)
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        result.error = f"not migrated: not a notebook ({exc})"
        return result
    for number, cell in enumerate(cells, 1):
        if cell.get("cell_type") != "code":
            continue
        try:
            text, count = migrate_cell(_cell_text(cell))
        except Untokenizable as exc:
            result.findings.append((f"{path} cell {number}", Finding(
                0, "missing-path", f"cell not migrated: the tokenizer cannot read it ({exc})")))
            continue
        if count:
            _set_cell_text(cell, text)
            result.changes += count
        result.findings += [(f"{path} cell {number}", f) for f in find_differences(text)]
    if result.changes:  # same indentation and key order, so only the cells' lines differ
        result.after = json.dumps(notebook, indent=_indent_of(before), ensure_ascii=False)
        result.after += "\n" if before.endswith("\n") else ""
    return result


def _indent_of(text: str) -> int:
    lines = text.splitlines()
    second = lines[1] if len(lines) > 1 else ""
    return (len(second) - len(second.lstrip(" "))) or 1


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The .py and .ipynb files under ``paths`` (directories walked, VCS and venvs skipped)."""
    for root in map(Path, paths):
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
                for name in sorted(filenames):
                    if name.endswith((".py", ".ipynb")):
                        yield Path(dirpath) / name
        else:
            yield root


def migrate_file(path: Path) -> FileResult:
    """Migrate ``path`` as a notebook or a Python file, by its suffix."""
    return migrate_notebook(path) if path.suffix == ".ipynb" else migrate_python(path)


def write(result: FileResult) -> None:
    """Replace the file with its migrated text (atomically, keeping its mode)."""
    tmp = result.path.with_name(f".{result.path.name}.plait-migrate")
    tmp.write_text(result.after, encoding="utf-8")
    os.chmod(tmp, result.path.stat().st_mode)
    os.replace(tmp, result.path)
