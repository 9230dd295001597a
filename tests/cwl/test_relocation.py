"""The final move of outputs into --outdir: plait's one-pass clash rule gives cwltool's names."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cwltool")


def _outputs(root: Path) -> dict[str, Any]:
    """Same-named files from many jobs, one already named like a renamed one, one listed twice."""
    files: list[dict[str, Any]] = []
    root.mkdir()
    for i in range(40):
        job = root / f"job{i}"
        job.mkdir()
        name = "out.txt_2" if i == 7 else "out.txt"
        (job / name).write_text(f"{i}\n")
        files.append({"class": "File", "location": (job / name).as_uri(), "basename": name})
    files.append(dict(files[3]))  # the same file twice: one target, no new name
    other = root / "job40" / "log.txt"
    other.parent.mkdir()
    other.write_text("x\n")
    return {"files": files,
            "log": {"class": "File", "location": other.as_uri(), "basename": "log.txt"}}


def _relocated_names(outputs: dict[str, Any], dest: Path, mapper: Any) -> list[str]:
    from cwltool.process import relocateOutputs
    from cwltool.stdfsaccess import StdFsAccess

    dest.mkdir()
    moved = relocateOutputs(copy.deepcopy(outputs), str(dest), set(), "copy",
                            StdFsAccess(""), path_mapper=mapper)
    names = [Path(f["location"]).name for f in moved["files"]]
    contents = [(dest / n).read_text() for n in names]
    return [*names, Path(moved["log"]["location"]).name, *contents]


def test_clashing_names_match_cwltools_own(tmp_path: Path) -> None:
    from cwltool.pathmapper import PathMapper

    from plait.cwl._relocation import RelocationMapper

    outputs = _outputs(tmp_path / "jobs")
    expected = _relocated_names(outputs, tmp_path / "cwltool", PathMapper)
    assert _relocated_names(outputs, tmp_path / "plait", RelocationMapper) == expected
    renamed = [f"out.txt_{i}" for i in range(2, 40)]
    assert expected[:42] == ["out.txt", *renamed[:6], "out.txt_2_2", *renamed[6:], "out.txt_4",
                             "log.txt"]  # the clash rule was exercised, duplicate included
