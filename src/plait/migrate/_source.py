"""Rewriting Python source from Parsl to plait with the tokenizer: only the identifier
``parsl`` and strings that are exactly a ``parsl[.module…]`` path change.

Comments, other strings, other identifiers (``parsl_resource_specification``,
``ParslPoolExecutor``, ``x.parsl``) and the layout of the file are left byte for byte.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

OLD, NEW = "parsl", "plait"
#: Parsl's top-level modules: a string is a module path only if it starts with one, so
#: "parsl.dataflow.dflow" changes and a file name such as "parsl.log" does not
PARSL_TOP_MODULES = ("addresses", "app", "benchmark", "concurrent", "config", "configs",
                     "curvezmq", "data_provider", "dataflow", "errors", "executors", "jobs",
                     "launchers", "log_utils", "logconfigs", "monitoring", "multiprocessing",
                     "process_loggers", "providers", "serialize", "tests", "usage_tracking",
                     "utils", "version")
#: a string literal whose whole content is a Parsl module path ("parsl", "parsl.app.app"),
#: or the start of one to which a name is added ("parsl.configs." + site)
_MODULE_PATH = re.compile(
    rf"^parsl(\.({'|'.join(PARSL_TOP_MODULES)})(\.[A-Za-z_]\w*)*)?\.?$")
#: a plain (not f-, not bytes) string literal: optional r/u prefix, then its quotes
_PLAIN_STRING = re.compile(r"^(?P<prefix>[rRuU]?)(?P<quote>'''|\"\"\"|'|\")(?P<body>.*)"
                           r"(?P=quote)$", re.DOTALL)


@dataclass(frozen=True)
class Change:
    """One rewritten token: where it was (1-based line) and what it became."""

    line: int
    column: int
    old: str
    new: str


class Untokenizable(Exception):
    """The source is not Python the tokenizer can read (a syntax error, Python 2, …)."""


def _string_change(text: str) -> str | None:
    match = _PLAIN_STRING.match(text)
    if match is None or not _MODULE_PATH.match(match["body"]):
        return None
    body = NEW + match["body"][len(OLD):]
    return f"{match['prefix']}{match['quote']}{body}{match['quote']}"


def find_changes(source: str) -> list[Change]:
    """Every token of ``source`` to rewrite, in order.

    Raises:
        Untokenizable: the tokenizer cannot read ``source``.
    """
    changes = []
    previous = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and tok.string == OLD and not (
                    previous is not None and previous.type == tokenize.OP
                    and previous.string == "."
                    and previous.end == tok.start):  # x.parsl is someone else's attribute
                changes.append(Change(tok.start[0], tok.start[1], OLD, NEW))
            elif tok.type == tokenize.ERRORTOKEN and not tok.string.isspace():
                raise Untokenizable(f"line {tok.start[0]}: cannot read {tok.line.strip()!r}")
            elif tok.type == tokenize.STRING:
                new = _string_change(tok.string)
                if new is not None:
                    changes.append(Change(tok.start[0], tok.start[1], tok.string, new))
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
                                tokenize.INDENT, tokenize.DEDENT):
                previous = tok
    except (tokenize.TokenError, SyntaxError) as exc:
        raise Untokenizable(str(exc)) from None
    return changes


def apply_changes(source: str, changes: list[Change]) -> str:
    """``source`` with ``changes`` (from :func:`find_changes`) applied.

    Every change lies on one line: identifiers do, and a module path has no newline.
    """
    lines = source.splitlines(keepends=True)
    for change in sorted(changes, key=lambda c: (c.line, c.column), reverse=True):
        line = lines[change.line - 1]
        end = change.column + len(change.old)
        assert line[change.column:end] == change.old, (change, line)
        lines[change.line - 1] = line[:change.column] + change.new + line[end:]
    return "".join(lines)


def migrate_source(source: str) -> tuple[str, list[Change]]:
    """``source`` rewritten for plait, and the changes made."""
    changes = find_changes(source)
    return apply_changes(source, changes), changes
