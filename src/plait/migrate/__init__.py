"""``plait migrate``: rewrite Parsl scripts, packages and notebooks to plait.

Only the identifier ``parsl`` and strings that are a Parsl module path change (with the
tokenizer, so comments, other strings and file names stay as they are); the report lists
what plait does differently from Parsl on the lines where the script meets it (the same
table is in the README).
"""

from plait.migrate._differences import FEATURES as FEATURES
from plait.migrate._differences import Feature as Feature
from plait.migrate._differences import Finding as Finding
from plait.migrate._files import FileResult as FileResult
from plait.migrate._files import migrate_file as migrate_file
from plait.migrate._source import migrate_source as migrate_source

__all__ = ["FEATURES", "Feature", "FileResult", "Finding", "migrate_file", "migrate_source"]
