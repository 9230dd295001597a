"""The final move of a run's output files: cwltool's PathMapper, name clashes settled in one pass.

Imported only where outputs are relocated (it imports cwltool).
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any

from cwltool.pathmapper import MapperEnt, PathMapper


class RelocationMapper(PathMapper):
    """cwltool's ``PathMapper`` for ``relocateOutputs``: output files that share a name get
    the new names cwltool's ``stage_files`` would give them (``out.txt``, ``out.txt_2``,
    ``out.txt_3``, ...), found here in one pass.

    ``stage_files`` tries every suffix from ``_2`` up for each clashing file: a scatter of
    1,000 jobs that all write ``out.txt`` costs 500,000 tries (~0.1 s after the last job).
    The suffixes below the last one given for a name are all taken (targets are only ever
    added), so starting from it gives the same names; ``stage_files`` then finds no clash.
    Mappers that give each file its own directory (``separateDirs``) are left as they are.
    """

    def setup(self, referenced_files: MutableSequence[Any], basedir: str) -> None:
        super().setup(referenced_files, basedir)
        if not self.separateDirs:
            self._settle_clashes()

    def _settle_clashes(self) -> None:
        """``stage_files``'s ``fix_conflicts`` rule (same order, same names)."""
        targets: dict[str, MapperEnt] = {}
        next_suffix: dict[str, int] = {}  # name -> the first suffix not yet known taken
        for key, entry in list(self.items()):
            if entry.type is None or "File" not in entry.type:
                continue
            if entry.target not in targets:
                targets[entry.target] = entry
                continue
            if targets[entry.target].resolved == entry.resolved:
                continue
            suffix = next_suffix.get(entry.target, 2)
            while f"{entry.target}_{suffix}" in targets:
                suffix += 1
            next_suffix[entry.target] = suffix + 1
            target = f"{entry.target}_{suffix}"
            targets[target] = self.update(key, entry.resolved, target, entry.type,
                                          entry.staged)
