"""The notebook tutorials run top to bottom with nbclient on the local default, each well
within two minutes, and are stored in git without outputs."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
BUDGET_S = 120


def test_the_six_tutorials_are_there() -> None:
    names = [p.stem.split("_", 1)[1] for p in NOTEBOOKS]
    assert names == ["introduction", "workflows", "scaling_out", "fault_tolerance",
                     "monitoring", "cwl"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: cell {cell.id} has outputs; strip them before committing "
                "(jupyter nbconvert --clear-output --inplace)")


@pytest.mark.slow
@pytest.mark.timeout(BUDGET_S + 30)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(book, timeout=60, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.monotonic()
    client.execute()  # raises CellExecutionError, with the cell and its traceback
    took = time.monotonic() - start
    print(f"{path.name}: {took:.1f} s")
    assert took < BUDGET_S, f"{path.name} took {took:.0f} s, over its {BUDGET_S} s budget"
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
