"""cwltool's own schema documents, parsed once and kept between runs.

Two costs every ``plait cwl run`` (and every process that loads a tool) paid for files
that only change with cwltool itself:

* every cwltool ``Process`` needs three small records of the CWL v1.0 schema (File,
  Directory, Any), and the first one built in a process got them by parsing that whole
  schema (~0.3 s of CPU), whatever the document's version;
* validating a document loads the CWL schema of its version: ~0.25 s of its ~0.4 s is the
  YAML parser reading cwltool's bundled schema files (``https://w3id.org/cwl/...``).

* and then building that schema (cwltool's ``get_schema``: the metaschema, the schema's
  names for validation) took ~0.3 s more;
* every cwltool ``Process`` converts its records to Avro with schema-salad's metaschema
  vocabulary, and the first conversion in a process built the whole metaschema for it
  (~0.13 s).

All are kept in plait's cache directory (``$XDG_CACHE_HOME/plait``, else ``~/.cache/plait``)
per cwltool (schema-salad, ruamel.yaml) version: the records as they are, each bundled
schema file's parsed YAML keyed by the digest of its text (the parser's result, unpickled
afresh for every read, since schema-salad edits what it gets), and per CWL version the
built schema's parts (see ``_BuiltSchemas``). The user's own documents are always
parsed. Any problem with the cache (unreadable, unwritable, stale, corrupt) just means
parsing again.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import io
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ParamSpec

#: where cwltool's get_schema() says its bundled schema files come from
_BUNDLED = "https://w3id.org/cwl/"
_P = ParamSpec("_P")
_INSTALLING = threading.RLock()


def cache_file(kind: str) -> Path:
    """Where ``kind`` (``file-schemas``, ``parsed-schemas``, ...) is kept for this cwltool
    (and the schema-salad and ruamel.yaml whose objects the pickles hold)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "plait" / f"{_versions_tag()}-{kind}.pickle"


@functools.cache
def _versions_tag() -> str:
    # once per process: each version lookup reads package metadata (~5 ms)
    from importlib.metadata import version

    return (f"cwltool-{version('cwltool')}-schema-salad-{version('schema-salad')}"
            f"-ruamel.yaml-{version('ruamel.yaml')}")


def _once(install: Callable[_P, None]) -> Callable[_P, None]:
    """``install`` run at most once per process: the wrappers it sets must not stack."""
    done = False

    @functools.wraps(install)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> None:
        nonlocal done
        with _INSTALLING:
            if not done:
                done = True
                install(*args, **kwargs)

    return run


def _read(path: Path) -> Any:
    try:
        with open(path, "rb") as kept:
            return pickle.load(kept)
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError,
            ImportError, IndexError):
        return None


def _write(path: Path, value: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as f:
            try:
                pickle.dump(value, f)
            except BaseException:
                os.unlink(f.name)
                raise
        os.replace(f.name, path)  # whole or not at all, with runs in parallel
    except (OSError, pickle.PickleError):
        pass


def preload() -> None:
    """Use the kept parses of cwltool's schema files, and set its File/Directory/Any records
    (from the cache, or parsed and kept)."""
    from cwltool import process

    _ParsedSchemas.install()
    _MetaschemaVocabulary.install()
    _BuiltSchemas.install()
    if process.SCHEMA_FILE is not None and process.SCHEMA_DIR is not None \
            and process.SCHEMA_ANY is not None:
        return
    path = cache_file("file-schemas")
    records = _read(path)
    if isinstance(records, tuple) and len(records) == 3:
        process.SCHEMA_FILE, process.SCHEMA_DIR, process.SCHEMA_ANY = records
        return
    loader = process.get_schema("v1.0")[3]
    records = tuple(loader.idx[f"{_BUNDLED}{name}"]
                    for name in ("cwl#File", "cwl#Directory", "salad#Any"))
    process.SCHEMA_FILE, process.SCHEMA_DIR, process.SCHEMA_ANY = records
    _write(path, records)


class _ParsedSchemas:
    """Serves the YAML parser's result for cwltool's bundled schema files from the cache.

    schema-salad reads them with ruamel's ``YAML.load_all``; wrapped once per process, it
    answers a stream named ``https://w3id.org/cwl/...`` whose text it has kept, and keeps
    the parse of one it has not (written to the cache when the process ends).
    """

    _kept: dict[str, bytes] = {}    # digest of a file's text -> its pickled documents
    _new = False

    @classmethod
    @_once
    def install(cls) -> None:
        kept = _read(cache_file("parsed-schemas"))
        if isinstance(kept, dict):
            cls._kept = kept
        from ruamel.yaml.main import YAML

        parse = YAML.load_all

        def load_all(yaml: Any, stream: Any) -> Iterator[Any]:
            name = getattr(stream, "name", "")
            if not (isinstance(name, str) and name.startswith(_BUNDLED)
                    and isinstance(stream, io.StringIO)):
                return parse(yaml, stream)
            return cls._documents(yaml, stream, parse)

        YAML.load_all = load_all  # type: ignore[method-assign,assignment]
        atexit.register(cls._save)

    @classmethod
    def _documents(cls, yaml: Any, stream: io.StringIO, parse: Any) -> Iterator[Any]:
        digest = hashlib.sha256(stream.getvalue().encode()).hexdigest()
        kept = cls._kept.get(digest)
        if kept is not None:
            try:
                return iter(pickle.loads(kept))
            except Exception:
                pass
        documents = list(parse(yaml, stream))
        try:
            cls._kept[digest] = pickle.dumps(documents)  # before schema-salad edits them
            cls._new = True
        except (pickle.PickleError, TypeError, AttributeError):
            pass
        return iter(documents)

    @classmethod
    def _save(cls) -> None:
        if cls._new:
            _write(cache_file("parsed-schemas"), cls._kept)


class _MetaschemaVocabulary:
    """Gives cwltool's Avro conversions schema-salad's metaschema vocabulary from the cache.

    cwltool calls ``make_avro_schema`` and ``make_valid_avro`` without a vocabulary, and
    schema-salad then takes it from its metaschema, built for that (once per process). The
    vocabulary (71 names; building schemas does not change it) is kept and passed instead
    while schema-salad has not built its metaschema; once it has, its own is used.
    """

    @staticmethod
    @_once
    def install() -> None:
        import schema_salad.schema as salad
        from cwltool import process

        path = cache_file("metaschema-vocabulary")
        kept = _read(path)
        if not isinstance(kept, dict):
            if salad.cached_metaschema is not None:
                return  # already built here, and perhaps added to: not a clean copy to keep
            kept = dict(salad.get_metaschema()[2].vocab)
            _write(path, kept)
        vocabulary: dict[str, str] = kept

        def given(vocab: dict[str, str] | None) -> dict[str, str] | None:
            if vocab is None and salad.cached_metaschema is None:
                return vocabulary
            return vocab

        to_schema, to_avro = process.make_avro_schema, process.make_valid_avro

        def make_avro_schema(i: Any, loader: Any, metaschema_vocab: Any = None) -> Any:
            return to_schema(i, loader, given(metaschema_vocab))

        def make_valid_avro(items: Any, alltypes: Any, found: Any, union: bool = False,
                            fielddef: bool = False, vocab: Any = None) -> Any:
            return to_avro(items, alltypes, found, union, fielddef, given(vocab))

        process.make_avro_schema = make_avro_schema
        process.make_valid_avro = make_valid_avro


class _BuiltSchemas:
    """Serves cwltool's ``get_schema(version)`` from what an earlier process built.

    What cwltool uses of a built schema to load and validate a document is the schema
    loader's context and file cache and the schema's names; they are kept (once per CWL
    version, when first built) and a loader is made from them as cwltool itself makes one
    from a schema loader's context. The fourth part, the metaschema's loader, is built only
    if something asks for it. Versions with a custom schema (``--enable-ext``) are built as
    cwltool builds them.
    """

    @classmethod
    @_once
    def install(cls) -> None:
        from cwltool import process

        build = process.get_schema

        def get_schema(version: str) -> Any:
            if version in process.SCHEMA_CACHE or version in process.custom_schemas:
                return build(version)
            kept = cls.restore(version, build)
            if kept is not None:
                process.SCHEMA_CACHE[version] = kept
                return kept
            built = build(version)
            cls.keep(version, built)
            return built

        process.get_schema = get_schema

    @staticmethod
    def _path(version: str) -> Path:
        safe = "".join(c if c.isalnum() or c == "." else "_" for c in version)
        return cache_file(f"built-schema-{safe}")

    @classmethod
    def keep(cls, version: str, built: tuple[Any, ...]) -> None:
        """Keep the parts of a schema just built (before documents add to its cache)."""
        loader, names, metadata, _ = built
        if isinstance(names, Exception):
            return
        _write(cls._path(version), {"ctx": loader.ctx, "cache": loader.cache, "names": names,
                                    "metadata": metadata})

    @classmethod
    def restore(cls, version: str, build: Any) -> tuple[Any, ...] | None:
        """The schema of ``version`` from its kept parts, or None if they are not usable."""
        kept = _read(cls._path(version))
        if not isinstance(kept, dict):
            return None
        try:
            from schema_salad.ref_resolver import Loader

            loader = Loader(kept["ctx"], cache=kept["cache"])
            return loader, kept["names"], kept["metadata"], _LazyMetaschema(version, build)
        except Exception:  # a stale or foreign cache: build afresh
            return None


class _LazyMetaschema:
    """The metaschema loader of a kept schema: built (with the whole schema, as cwltool
    builds it) when first used."""

    def __init__(self, version: str, build: Any) -> None:
        self._version, self._build, self._real = version, build, None

    def __getattr__(self, name: str) -> Any:
        # through __dict__: a copy being made has no _real yet, and must not recurse here
        real = self.__dict__.get("_real")
        if real is None:
            from cwltool import process

            process.SCHEMA_CACHE.pop(self._version, None)
            real = self._real = self._build(self._version)[3]
        return getattr(real, name)
