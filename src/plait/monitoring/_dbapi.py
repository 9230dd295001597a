"""The writer's statements on a driver connection, and its SQLite path without SQLAlchemy.

The database process starts with every monitored run. Importing SQLAlchemy and creating the
schema through it cost that process ~0.5 s of CPU, spent while the run's first tasks go (on
a short run, more than all its records). For a plain ``sqlite:///FILE`` URL the writer
therefore talks to the sqlite3 driver directly: the schema's DDL is the one SQLAlchemy
compiles from :mod:`plait.monitoring._schema` (kept in :mod:`._sqlite_ddl`, which a test
compares with the schema), and its INSERT/UPDATE statements are built from column lists.
Any other URL (PostgreSQL, SQLite with options) goes through SQLAlchemy (:mod:`._db`).
Nothing here imports SQLAlchemy.
"""

from __future__ import annotations

import datetime
import os
import sqlite3
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from plait.monitoring import _sqlite_ddl
from plait.monitoring._errors import MonitoringDatabaseError

BUSY_MS = 30_000  # another run's writer may hold SQLite's write lock for one batch
_PREFIX = "sqlite:///"


class Statement:
    """One SQL statement; ``run`` executes it for rows (values in statement order, or in
    the order ``order`` picks from each row) on a driver connection.

    With ``group`` > 1 (an INSERT), rows go ``group`` at a time into one multi-row
    ``VALUES`` statement: the database steps once per group instead of once per row, about
    a third less of the writer's time in SQLite. Rows go straight to the driver's
    ``executemany``: the writer gives plain values, no parameter processing is needed.
    """

    def __init__(self, sql: str, order: list[int] | None = None, group: int = 1) -> None:
        self.sql, self._order, self._group = sql, order, group
        self._group_sql = ""
        if group > 1:
            head, values, tail = sql.partition(" VALUES (")
            one, close, rest = tail.partition(")")
            assert values and close, sql
            self._group_sql = f"{head} VALUES {', '.join([f'({one})'] * group)}{rest}"

    def run(self, dbapi: Any, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        order = self._order
        if order is not None:
            rows = [tuple(r[i] for i in order) for r in rows]
        cursor = dbapi.cursor()
        try:
            k = self._group
            whole = len(rows) - len(rows) % k if self._group_sql else 0
            if whole:
                cursor.executemany(self._group_sql, [tuple(chain.from_iterable(rows[j:j + k]))
                                                     for j in range(0, whole, k)])
            if whole < len(rows):
                cursor.executemany(self.sql, rows[whole:])
        finally:
            cursor.close()


def timestamp_converter(backend: str) -> Callable[[float | None], Any]:
    """Epoch seconds → what the ``backend`` driver stores for a DateTime column.

    SQLite stores text in SQLAlchemy's format (so Core reads it back as datetimes); the
    text of each whole second is cached, since a batch's timestamps share most of them.
    """
    if backend != "sqlite":
        def to_datetime(t: float | None) -> datetime.datetime | None:
            return None if t is None else datetime.datetime.fromtimestamp(t)
        return to_datetime

    seconds: dict[int, str] = {}  # whole second -> its text and a %-slot for the microseconds

    def to_text(t: float | None) -> str | None:
        if t is None:
            return None
        whole = int(t)
        form = seconds.get(whole)
        if form is None:
            if len(seconds) > 4096:
                seconds.clear()
            form = seconds[whole] = datetime.datetime.fromtimestamp(whole).strftime(
                "%Y-%m-%d %H:%M:%S.%%06d")
        return form % ((t - whole) * 1e6)  # %d truncates, as int() would

    return to_text


def backend_of(url: str) -> str:
    """``sqlite`` of ``sqlite+pysqlite:///x``, ``postgresql`` of ``postgresql://...``."""
    return url.split(":", 1)[0].split("+", 1)[0]


def sqlite_path(url: str) -> str | None:
    """The file of a plain ``sqlite:///FILE`` URL (no driver, no options), else None."""
    if not url.startswith(_PREFIX) or "?" in url:
        return None
    path = url[len(_PREFIX):]
    return path if path and path != ":memory:" else None


def set_pragmas(dbapi: Any) -> None:
    """WAL (readers never block the writer; a committed batch survives a crash of the
    process that wrote it), and a busy wait for another writer's batch."""
    cur = dbapi.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL: committed data survives a process crash
    cur.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    cur.close()


def open_sqlite(path: str) -> sqlite3.Connection:
    """The writer's connection to the SQLite file ``path``, its schema created if missing;
    transactions are explicit (``BEGIN`` ... ``commit()``)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        set_pragmas(conn)
        conn.execute("BEGIN IMMEDIATE")  # two runs creating one database: one at a time
        for ddl in _sqlite_ddl.DDL:
            conn.execute(ddl)
        row = conn.execute("SELECT value FROM plait_meta WHERE key = 'schema_version'"
                           ).fetchone()
        if row is None:
            conn.execute("INSERT INTO plait_meta (key, value) VALUES ('schema_version', ?)",
                         (str(_sqlite_ddl.SCHEMA_VERSION),))
        elif int(row[0]) > _sqlite_ddl.SCHEMA_VERSION:
            raise MonitoringDatabaseError(
                f"{_PREFIX}{path}", f"it has schema version {row[0]}, newer than this "
                f"plait's {_sqlite_ddl.SCHEMA_VERSION}; upgrade plait or use another "
                "logging_endpoint")
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_insert(table: str, columns: Sequence[str], group: int = 1) -> Statement:
    """``INSERT`` of ``columns`` that skips rows whose primary key exists (a record
    delivered twice must not fail the whole batch), as SQLAlchemy's SQLite dialect has it."""
    cols = ", ".join(_quote(c) for c in columns)
    marks = ", ".join("?" * len(columns))
    return Statement(f"INSERT INTO {_quote(table)} ({cols}) VALUES ({marks}) "
                     "ON CONFLICT DO NOTHING", None, group)


def sqlite_update(table: str, key: Sequence[str], columns: Sequence[str]) -> Statement:
    """``UPDATE table SET columns WHERE key``; rows give ``columns`` then ``key`` values."""
    sets = ", ".join(f"{_quote(c)} = ?" for c in columns)
    where = " AND ".join(f"{_quote(k)} = ?" for k in key)
    return Statement(f"UPDATE {_quote(table)} SET {sets} WHERE {where}")


def sqlite_delete(table: str, key: Sequence[str]) -> Statement:
    """``DELETE FROM table WHERE key``; rows give the ``key`` values."""
    where = " AND ".join(f"{_quote(k)} = ?" for k in key)
    return Statement(f"DELETE FROM {_quote(table)} WHERE {where}")
