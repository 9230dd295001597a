"""Every step of the hands-on tutorial: its solution runs and prints ``step N OK``, and its
exercise (generated from the solution) stops at its gap with NotImplementedError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from plait_docs import HANDSON, exercise  # noqa: E402

STEPS = sorted(HANDSON.glob("step*.py"))


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    path = cwd / "step.py"
    path.write_text(script)
    return subprocess.run([sys.executable, str(path)], cwd=cwd, capture_output=True,
                          text=True, timeout=90)


def test_seven_steps_and_an_hour() -> None:
    assert [p.name.split("_")[0] for p in STEPS] == [f"step{i}" for i in range(1, 8)]
    page = (DOCS / "handson" / "index.md").read_text()
    minutes = [int(line.split("|")[2]) for line in page.splitlines()
               if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert len(minutes) == 7 and sum(minutes) == 60, minutes
    for path in STEPS:
        assert f"../generated/handson/{path.name}" in page and f"steps/{path.name}" in page


@pytest.mark.slow
@pytest.mark.parametrize("path", STEPS, ids=[p.stem for p in STEPS])
def test_solution_passes(path: Path, tmp_path: Path) -> None:
    done = _run(path.read_text(), tmp_path)
    number = path.stem.split("_")[0].removeprefix("step")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"step {number} OK" in done.stdout, done.stdout


@pytest.mark.parametrize("path", STEPS, ids=[p.stem for p in STEPS])
def test_exercise_stops_at_its_gap(path: Path, tmp_path: Path) -> None:
    text = exercise(path.read_text(), path.stem)
    assert "SOLUTION" not in text and f"TODO ({path.stem})" in text
    done = _run(text, tmp_path)
    assert done.returncode != 0
    assert f"NotImplementedError: {path.stem}" in done.stderr, done.stderr[-2000:]
