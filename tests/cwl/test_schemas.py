"""cwltool's File/Directory/Any schemas kept between runs (``plait.cwl._schemas``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cwltool")

# In a fresh interpreter: preload, build a Process, and report whether cwltool parsed the
# CWL v1.0 schema to get the records (it keeps what it parsed in SCHEMA_CACHE).
PROBE = """
from cwltool import process
from plait.cwl import _schemas
_schemas.preload()
from plait.cwl._apps import load_tool
load_tool({tool!r})
print("parsed" if "v1.0" in process.SCHEMA_CACHE else "cached")
"""


def probe(tmp_path: Path) -> str:
    tool = Path(__file__).parent / "data" / "echo.cwl"
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", PROBE.format(tool=str(tool))], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_records_are_parsed_once_then_loaded(tmp_path: Path) -> None:
    assert probe(tmp_path) == "parsed"
    kept = list((tmp_path / "cache" / "plait").iterdir())
    assert len(kept) == 1 and kept[0].name.endswith("-file-schemas.pickle")
    assert probe(tmp_path) == "cached"


def test_a_broken_cache_is_parsed_again_and_replaced(tmp_path: Path) -> None:
    assert probe(tmp_path) == "parsed"
    (kept,) = (tmp_path / "cache" / "plait").iterdir()
    kept.write_bytes(b"not a pickle")
    assert probe(tmp_path) == "parsed"
    assert probe(tmp_path) == "cached"
