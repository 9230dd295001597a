"""The final move of a run's output files into --outdir, with cwltool's names and results.

* ``RelocationMapper``: cwltool's PathMapper for ``relocateOutputs``, name clashes settled in
  one pass;
* ``fast_relocation``: cwltool's ``relocateOutputs`` with a shorter way for the usual case
  (outputs that are plain local files): each directory's real path found once, each file
  moved, and each job directory the move left empty removed at once (a single ``rmdir``,
  where the clean-up that follows would open, list and remove it). Anything else is left
  to cwltool.

Imported only where outputs are relocated (it imports cwltool).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping, MutableSequence
from typing import Any

from cwltool.pathmapper import PathMapper
from schema_salad.ref_resolver import file_uri, uri_file_path


def settle_clashes(entries: list[tuple[str, str, str]]) -> dict[str, str]:
    """New targets for files that share one: ``stage_files``'s ``fix_conflicts`` rule.

    ``entries`` are (key, resolved path, target) in staging order; the answer maps the key of
    each file that must move elsewhere to its new target (``out.txt_2``, ``out.txt_3``, ...).
    ``stage_files`` tries every suffix from ``_2`` up for each clashing file: a scatter of
    1,000 jobs that all write ``out.txt`` costs 500,000 tries. The suffixes below the last
    one given for a name are all taken (targets are only ever added), so starting from it
    gives the same names.
    """
    resolved_at: dict[str, str] = {}
    next_suffix: dict[str, int] = {}  # name -> the first suffix not yet known taken
    moved: dict[str, str] = {}
    for key, resolved, target in entries:
        if target not in resolved_at:
            resolved_at[target] = resolved
            continue
        if resolved_at[target] == resolved:
            continue
        suffix = next_suffix.get(target, 2)
        while f"{target}_{suffix}" in resolved_at:
            suffix += 1
        next_suffix[target] = suffix + 1
        new = f"{target}_{suffix}"
        resolved_at[new] = resolved
        moved[key] = new
    return moved


class RelocationMapper(PathMapper):
    """cwltool's ``PathMapper`` for ``relocateOutputs``: output files that share a name get
    the new names ``stage_files`` would give them, found here in one pass (``stage_files``
    then finds no clash). Mappers that give each file its own directory (``separateDirs``)
    are left as they are."""

    def setup(self, referenced_files: MutableSequence[Any], basedir: str) -> None:
        super().setup(referenced_files, basedir)
        if self.separateDirs:
            return
        files = [(key, entry) for key, entry in self.items()
                 if entry.type is not None and "File" in entry.type]
        moved = settle_clashes([(key, entry.resolved, entry.target) for key, entry in files])
        for key, entry in files:
            if key in moved:
                self.update(key, entry.resolved, moved[key], entry.type, entry.staged)


Relocate = Callable[..., Any]


def install() -> None:
    """Have cwltool's executor relocate outputs through ``fast_relocation`` (idempotent)."""
    from cwltool import executors

    if not getattr(executors.relocateOutputs, "plait_fast", False):
        executors.relocateOutputs = fast_relocation(executors.relocateOutputs)


def fast_relocation(relocate: Relocate) -> Relocate:
    """cwltool's ``relocateOutputs`` (given), taking the short way where it can."""

    def relocate_outputs(outputObj: Any, destination_path: str,
                         source_directories: set[str], action: str, fs_access: Any,
                         compute_checksum: bool = True,
                         path_mapper: type[PathMapper] = PathMapper) -> Any:
        files = _plain_files(outputObj) if action == "move" else None
        if files is None:
            return relocate(outputObj, destination_path, source_directories, action,
                            fs_access, compute_checksum, path_mapper=path_mapper)
        _move_files(files, destination_path, source_directories)
        if compute_checksum:
            from cwltool.process import compute_checksums

            for fileobj in files:
                compute_checksums(fs_access, fileobj)  # type: ignore[arg-type]
        return outputObj

    relocate_outputs.plait_fast = True  # type: ignore[attr-defined]
    return relocate_outputs


def _plain_files(outputs: Any) -> list[dict[str, Any]] | None:
    """The output object's File objects in cwltool's order, if every File or Directory in it
    is a local file with nothing attached (no secondaryFiles, listing, contents, writable
    flag); else None."""
    files: list[dict[str, Any]] = []
    for obj in _entries(outputs):
        location = obj.get("location")
        if obj.get("class") != "File" or not isinstance(location, str) \
                or not location.startswith("file://") or obj.get("writable") \
                or "contents" in obj or not isinstance(obj.get("basename"), str) \
                or any(isinstance(v, (Mapping, MutableSequence)) for v in obj.values()):
            return None
        files.append(obj)
    return files


def _entries(obj: Any) -> Iterator[dict[str, Any]]:
    """Files and Directories as ``relocateOutputs`` collects them (not inside one another)."""
    if isinstance(obj, Mapping):
        if obj.get("class") in ("File", "Directory"):
            yield obj  # type: ignore[misc]
        else:
            for value in obj.values():
                yield from _entries(value)
    elif isinstance(obj, MutableSequence):
        for value in obj:
            yield from _entries(value)


def _move_files(files: list[dict[str, Any]], destination: str,
                source_directories: set[str]) -> None:
    """What ``relocateOutputs`` does with plain files: locations made real, targets named
    (clashes settled), each file moved if it lies in a source directory (else copied),
    locations set to the targets."""
    real = _RealPaths()
    files = list({id(fileobj): fileobj for fileobj in files}.values())  # each object once
    for fileobj in files:
        fileobj["location"] = file_uri(real.of(uri_file_path(fileobj["location"])))
    plan: dict[str, tuple[str, str]] = {}  # location -> (resolved path, target)
    for fileobj in files:
        location = fileobj["location"]
        if location not in plan:
            plan[location] = (uri_file_path(location),
                              os.path.join(destination, fileobj["basename"]))
    moved = settle_clashes([(loc, src, dst) for loc, (src, dst) in plan.items()])
    for location, new in moved.items():
        plan[location] = (plan[location][0], new)
    for directory in {os.path.dirname(dst) for _, dst in plan.values()}:
        os.makedirs(directory, exist_ok=True)
    for src, dst in plan.values():  # src: a real path already
        if os.path.exists(src):
            _relocate(src, real.of(dst), source_directories)
    for fileobj in files:
        fileobj["location"] = file_uri(plan[fileobj["location"]][1])


def _relocate(src: str, dst: str, source_directories: set[str]) -> None:
    """``relocateOutputs``'s move of one file; an emptied job directory is removed."""
    if src == dst:
        return
    if any(src.startswith(p) for p in source_directories):  # a string prefix, as cwltool
        shutil.move(src, dst)
        try:
            os.rmdir(os.path.dirname(src))  # cleaned up next anyway; fails if not empty
        except OSError:
            pass
    else:
        shutil.copy2(src, dst)


class _RealPaths:
    """``os.path.realpath`` with each directory's answer kept (directories do not move here):
    a path's real path is its directory's plus its name, unless that name is a link."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def of(self, path: str) -> str:
        head, name = os.path.split(path)
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        real_head = self._known.get(head)
        if real_head is None:
            real_head = self._known[head] = self.of(head)
        joined = os.path.join(real_head, name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined
