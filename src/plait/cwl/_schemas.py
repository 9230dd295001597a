"""cwltool's File, Directory and Any schemas, kept between runs.

Every cwltool ``Process`` needs three small records of the CWL v1.0 schema; the first one
built in a process gets them by parsing that whole schema (~0.3 s of CPU, paid by every
``plait cwl run`` whatever the document's version). The records depend only on cwltool's
own files, so they are kept in plait's cache directory (``$XDG_CACHE_HOME/plait``, else
``~/.cache/plait``), keyed by cwltool's version, and loaded from there on later runs. Any
problem with the cache (unreadable, unwritable, stale format) just means parsing again.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path


def cache_file() -> Path:
    """Where the records are kept for the installed cwltool."""
    from importlib.metadata import version

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "plait" / f"cwltool-{version('cwltool')}-file-schemas.pickle"


def preload() -> None:
    """Set cwltool's File/Directory/Any schemas from the cache, or parse them and keep them."""
    from cwltool import process

    if process.SCHEMA_FILE is not None and process.SCHEMA_DIR is not None \
            and process.SCHEMA_ANY is not None:
        return
    path = cache_file()
    try:
        with open(path, "rb") as kept:
            records = pickle.load(kept)
        process.SCHEMA_FILE, process.SCHEMA_DIR, process.SCHEMA_ANY = records
        return
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError):
        pass
    loader = process.get_schema("v1.0")[3]
    records = tuple(loader.idx[f"https://w3id.org/cwl/{name}"]
                    for name in ("cwl#File", "cwl#Directory", "salad#Any"))
    process.SCHEMA_FILE, process.SCHEMA_DIR, process.SCHEMA_ANY = records
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as f:
            try:
                pickle.dump(records, f)
            except BaseException:
                os.unlink(f.name)
                raise
        os.replace(f.name, path)  # whole or not at all, with runs in parallel
    except (OSError, pickle.PickleError):
        pass
