"""The Python examples of the quickstart and the user guide run as shown: each page's
blocks, in order, as one script in an empty directory (with the repository's examples/)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "docs" / "quickstart.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _script(page: Path) -> str:
    return "\n".join(BLOCK.findall(page.read_text()))


def test_pages_have_examples() -> None:
    without = [p.name for p in PAGES if p.name != "index.md" and not _script(p)]
    assert not without, f"guide pages without a Python example: {without}"


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "index.md"],
                         ids=lambda p: p.stem)
def test_examples_run(page: Path, tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    done = subprocess.run([sys.executable, "-c", _script(page)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=100)
    assert done.returncode == 0, f"{page.name}:\n{done.stderr[-3000:]}"
