"""cwltool's schema documents parsed once and kept between runs (``plait.cwl._schemas``)."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cwltool")

# In a fresh interpreter: preload, load a tool, and report whether cwltool parsed the CWL
# v1.0 schema for its records (it keeps what it parsed in SCHEMA_CACHE) and whether any
# bundled schema file had to be parsed by the YAML parser.
PROBE = """
from cwltool import process
from plait.cwl import _schemas
_schemas.preload()
from plait.cwl._apps import load_tool
load_tool({tool!r})
print("parsed" if "v1.0" in process.SCHEMA_CACHE else "cached",
      "parsed" if _schemas._ParsedSchemas._new else "cached")
"""


def probe(tmp_path: Path) -> str:
    tool = Path(__file__).parent / "data" / "echo.cwl"
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", PROBE.format(tool=str(tool))], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_schemas_are_parsed_once_then_loaded(tmp_path: Path) -> None:
    assert probe(tmp_path) == "parsed parsed"
    kept = sorted(p.name for p in (tmp_path / "cache" / "plait").iterdir())
    assert [name.rsplit("-", 2)[-2:] for name in kept] == [
        ["file", "schemas.pickle"], ["parsed", "schemas.pickle"]]
    assert probe(tmp_path) == "cached cached"


def test_a_broken_cache_is_parsed_again_and_replaced(tmp_path: Path) -> None:
    probe(tmp_path)
    for kept in (tmp_path / "cache" / "plait").iterdir():
        kept.write_bytes(b"not a pickle")
    assert probe(tmp_path) == "parsed parsed"
    assert probe(tmp_path) == "cached cached"


def test_kept_parses_equal_the_parser_s_own(tmp_path: Path) -> None:
    from importlib.resources import files

    from schema_salad.utils import yaml_no_ts

    probe(tmp_path)
    (kept,) = (tmp_path / "cache" / "plait").glob("*-parsed-schemas.pickle")
    entries = pickle.loads(kept.read_bytes())
    schemas = files("cwltool").joinpath("schemas/v1.2")
    checked = 0
    for name in ("CommonWorkflowLanguage.yml", "Process.yml", "CommandLineTool.yml"):
        text = schemas.joinpath(name).read_text("UTF-8")
        digest = hashlib.sha256(text.encode()).hexdigest()
        assert digest in entries, name
        stream = io.StringIO(text)
        fresh = list(yaml_no_ts().load_all(stream))
        cached = pickle.loads(entries[digest])
        assert cached == fresh
        assert cached[0].lc.line == fresh[0].lc.line  # line numbers kept for messages
        checked += 1
    assert checked == 3
