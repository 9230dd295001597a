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


def _run_outputs(tmp: Path) -> tuple[dict[str, Any], Path, Path]:
    """A run's outputs as the engine returns them: same-named files from many job
    directories (one job with two outputs), a file from outside the run (kept in place,
    copied), a file reached through a link, records and lists nested."""
    root = tmp / "run" / "job-root"
    jobs: list[dict[str, Any]] = []
    for i in range(12):
        job = root / f"job-x/{i}"
        job.mkdir(parents=True)
        (job / "out.txt").write_text(f"{i}\n")
        jobs.append({"class": "File", "location": (job / "out.txt").as_uri(),
                     "basename": "out.txt", "checksum": "sha1$kept", "size": 2})
    (root / "job-x/3/extra.log").write_text("extra\n")
    outside = tmp / "inputs" / "given.txt"
    outside.parent.mkdir()
    outside.write_text("given\n")
    linked = root / "job-x/5/link.txt"
    linked.symlink_to(root / "job-x/5/out.txt")
    outputs = {"files": jobs[:10],
               "record": {"extra": {"class": "File", "basename": "extra.log",
                                    "location": (root / "job-x/3/extra.log").as_uri()},
                          "more": [[jobs[10]], jobs[11]]},
               "given": {"class": "File", "location": outside.as_uri(),
                         "basename": "given.txt"},
               "linked": {"class": "File", "location": linked.as_uri(),
                          "basename": "link.txt"},
               "nothing": None, "count": 3}
    return outputs, root, outside


def _relocate(relocate: Any, tmp: Path) -> tuple[Any, list[Any], Path, Path]:
    from cwltool.stdfsaccess import StdFsAccess

    from plait.cwl._relocation import RelocationMapper

    outputs, root, outside = _run_outputs(tmp)
    dest = tmp / "out"
    moved = relocate(outputs, str(dest), {str(root)}, "move", StdFsAccess(""), True,
                     path_mapper=RelocationMapper)
    listing = sorted((p.name, p.read_text()) for p in dest.iterdir())
    for value in (moved, listing):  # the same whoever ran it
        _strip(value, str(tmp))
    return moved, listing, root, outside


def _strip(value: Any, prefix: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and prefix in item:
                value[key] = item.split(prefix, 1)[1]
            else:
                _strip(item, prefix)
    elif isinstance(value, list):
        for item in value:
            _strip(item, prefix)


def test_the_short_way_relocates_as_cwltool_does(tmp_path: Path) -> None:
    from cwltool.process import relocateOutputs

    from plait.cwl._relocation import fast_relocation

    theirs, their_files, _, _ = _relocate(relocateOutputs, tmp_path / "cwltool")
    ours, our_files, root, outside = _relocate(fast_relocation(relocateOutputs),
                                               tmp_path / "plait")
    assert ours == theirs
    assert our_files == their_files
    assert [f["location"].rsplit("/", 1)[1] for f in ours["files"]] == [
        "out.txt", *(f"out.txt_{i}" for i in range(2, 11))]
    assert outside.read_text() == "given\n"  # not the run's: copied, left where it was
    # the job directories the move emptied are gone; the one with a leftover file stays
    assert sorted(p.name for p in (root / "job-x").iterdir()) == ["5"]
    assert [p.name for p in (root / "job-x" / "5").iterdir()] == ["link.txt"]


def test_outputs_with_more_than_plain_files_go_cwltool_s_way(tmp_path: Path) -> None:
    from plait.cwl._relocation import fast_relocation

    outputs, root, _ = _run_outputs(tmp_path)
    first = outputs["files"][0]
    first["secondaryFiles"] = [dict(outputs["files"][1])]
    calls = []
    relocate = fast_relocation(lambda *args, **kwargs: calls.append(args) or args[0])
    for action, value in (("move", outputs), ("copy", {"f": dict(outputs["files"][2])}),
                          ("move", {"d": {"class": "Directory",
                                          "location": (root / "job-x").as_uri()}})):
        assert relocate(value, str(tmp_path / "out"), {str(root)}, action, None) is value
    assert len(calls) == 3
    assert not (tmp_path / "out").exists()
