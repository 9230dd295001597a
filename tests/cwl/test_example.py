"""examples/cwl_mixed.py runs: CWL tools and a CWL workflow mixed with Python apps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cwl_mixed.py"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("where", ["threads", "pilot"])
def test_cwl_mixed_example(tmp_path: Path, where: str) -> None:
    args = [sys.executable, str(EXAMPLE), "4"] + (["--pilot"] if where == "pilot" else [])
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=200)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "4 texts, 18 words, 8 distinct" in out.stdout
    assert f"ran on {'the pilot executor' if where == 'pilot' else 'threads'}" in out.stdout
