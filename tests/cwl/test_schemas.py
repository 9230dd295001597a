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
# v1.0 schema for its records (it keeps what it parsed in SCHEMA_CACHE), whether any
# bundled schema file had to be parsed by the YAML parser, and whether the tool's CWL v1.2
# schema was built (a kept one has a metaschema loader that is built only when used), and
# whether schema-salad had to build its metaschema (for its vocabulary, say).
PROBE = """
import schema_salad.schema as salad
from cwltool import process
from plait.cwl import _schemas
_schemas.preload()
from plait.cwl._apps import load_tool
load_tool({tool!r})
print("parsed" if "v1.0" in process.SCHEMA_CACHE else "cached",
      "parsed" if _schemas._ParsedSchemas._new else "cached",
      "kept" if isinstance(process.SCHEMA_CACHE["v1.2"][3], _schemas._LazyMetaschema)
      else "built", "metaschema" if salad.cached_metaschema is not None else "none")
"""


def probe(tmp_path: Path) -> str:
    tool = Path(__file__).parent / "data" / "echo.cwl"
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", PROBE.format(tool=str(tool))], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_schemas_are_parsed_once_then_loaded(tmp_path: Path) -> None:
    assert probe(tmp_path) == "parsed parsed built metaschema"
    kept = sorted(p.name.split("-ruamel.yaml-")[1].split("-", 1)[1]
                  for p in (tmp_path / "cache" / "plait").iterdir())
    assert kept == ["built-schema-v1.0.pickle", "built-schema-v1.2.pickle",
                    "file-schemas.pickle", "metaschema-vocabulary.pickle",
                    "parsed-schemas.pickle"]
    assert probe(tmp_path) == "cached cached kept none"


def test_a_broken_cache_is_parsed_again_and_replaced(tmp_path: Path) -> None:
    probe(tmp_path)
    for kept in (tmp_path / "cache" / "plait").iterdir():
        kept.write_bytes(b"not a pickle")
    assert probe(tmp_path) == "parsed parsed built metaschema"
    assert probe(tmp_path) == "cached cached kept none"


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


def _structure(value: object, seen: set[int] | None = None) -> object:
    """A comparable picture of an object graph (schema-salad's avro names have no __eq__)."""
    seen = set() if seen is None else seen
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        return {k: _structure(v, seen) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_structure(v, seen) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if id(value) in seen:
        return ("seen", type(value).__name__, getattr(value, "name", None))
    seen.add(id(value))
    fields = {}
    for name in dir(value):
        attr = getattr(value, name, None)
        if not name.startswith("__") and not callable(attr):
            fields[name] = _structure(attr, seen)
    return type(value).__name__, fields


@pytest.mark.parametrize("version", ["v1.0", "v1.2"])
def test_a_kept_schema_equals_the_one_cwltool_builds(tmp_path: Path, version: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from cwltool import process

    from plait.cwl import _schemas

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    build = process.get_schema
    monkeypatch.setattr(process, "SCHEMA_CACHE", {})
    built = build(version)
    _schemas._BuiltSchemas.keep(version, built)
    kept = _schemas._BuiltSchemas.restore(version, build)
    assert kept is not None
    for field in ("ctx", "vocab", "rvocab", "url_fields", "identifiers", "identity_links",
                  "idmap", "mapPredicate", "type_dsl_fields", "secondaryFile_dsl_fields",
                  "subscopes", "scoped_ref_fields", "vocab_fields", "nolinkcheck", "cache"):
        assert getattr(kept[0], field) == getattr(built[0], field), field
    assert _structure(kept[1]) == _structure(built[1])  # the names documents validate by
    assert kept[2] == built[2]
    # the metaschema loader, built on first use, is cwltool's own
    file_record = "https://w3id.org/cwl/cwl#File"
    assert kept[3].idx[file_record] == built[3].idx[file_record]


def test_the_kept_metaschema_vocabulary_is_schema_salad_s(tmp_path: Path) -> None:
    import schema_salad.schema as salad
    from cwltool import process
    from schema_salad.ref_resolver import Loader

    from plait.cwl import _schemas

    probe(tmp_path)
    (kept,) = (tmp_path / "cache" / "plait").glob("*-metaschema-vocabulary.pickle")
    vocabulary = pickle.loads(kept.read_bytes())
    _schemas.preload()
    assert vocabulary == salad.get_metaschema()[2].vocab
    records = [process.SCHEMA_FILE, process.SCHEMA_DIR, process.SCHEMA_ANY]
    assert _structure(salad.make_avro_schema(records, Loader({}), vocabulary)) == \
        _structure(salad.make_avro_schema(records, Loader({})))
