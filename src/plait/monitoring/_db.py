"""Opening a monitoring database, creating its schema, and the writer's prepared statements.

SQLite is opened in WAL mode: readers (``plait status``, the dashboard) never block the
writer, and a committed batch survives a crash of the process that wrote it. The writer
inserts through the driver's ``executemany`` with statements SQLAlchemy compiled for the
database's dialect, which is four times faster than Core's per-row parameter processing.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from plait.monitoring import _schema as s
from plait.monitoring._errors import MonitoringDatabaseError

_BUSY_MS = 30_000  # another run's writer may hold SQLite's write lock for one batch


def default_url(base_run_dir: str) -> str:
    """``sqlite:///<base_run_dir>/monitoring.db``, Parsl's default: one database per base
    run directory, shared by the runs under it."""
    return f"sqlite:///{os.path.abspath(os.path.join(base_run_dir, 'monitoring.db'))}"


def resolve_url(target: str) -> str:
    """A database URL from a URL, a database file, or a run directory (``runinfo/003``,
    ``runinfo``): whatever a user passes to ``plait status``."""
    if "://" in target:
        return target
    path = os.path.abspath(target)
    if os.path.isdir(path):
        for candidate in (path, os.path.dirname(path)):
            db = os.path.join(candidate, "monitoring.db")
            if os.path.exists(db):
                return f"sqlite:///{db}"
        raise MonitoringDatabaseError(target, "no monitoring.db in this directory or its "
                                      "parent; was the run started with monitoring on?")
    if not os.path.exists(path):
        raise MonitoringDatabaseError(target, "no such file or directory")
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL: committed data survives a process crash
    cur.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
    cur.close()


def open_engine(url: str, *, create_dirs: bool = False) -> Engine:
    """An engine for ``url``; SQLite in WAL mode. Positional parameters for the writer."""
    if url.startswith("sqlite") and create_dirs:
        path = sa.make_url(url).database
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        kwargs["paramstyle"] = "format"
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def ensure_schema(engine: Engine) -> None:
    """Create whatever tables and indexes are missing; refuse a newer schema."""
    s.metadata.create_all(engine)
    for index in s.INDEXES:
        index.create(engine, checkfirst=True)
    with engine.begin() as conn:
        row = conn.execute(sa.select(s.plait_meta.c.value)
                           .where(s.plait_meta.c.key == "schema_version")).first()
        if row is None:
            conn.execute(s.plait_meta.insert().values(key="schema_version",
                                                      value=str(s.SCHEMA_VERSION)))
        elif int(row[0]) > s.SCHEMA_VERSION:
            raise MonitoringDatabaseError(
                engine.url.render_as_string(hide_password=True),
                f"it has schema version {row[0]}, newer than this plait's "
                f"{s.SCHEMA_VERSION}; upgrade plait or use another logging_endpoint")


def timestamp_converter(backend: str) -> Callable[[float | None], Any]:
    """Epoch seconds → what the ``backend`` driver stores for a DateTime column.

    SQLite stores text in SQLAlchemy's format (so Core reads it back as datetimes); the
    string for each whole second is cached, since a batch's timestamps share most of them.
    """
    if backend != "sqlite":
        def to_datetime(t: float | None) -> datetime.datetime | None:
            return None if t is None else datetime.datetime.fromtimestamp(t)
        return to_datetime

    seconds: dict[int, str] = {}

    def to_text(t: float | None) -> str | None:
        if t is None:
            return None
        whole = int(t)
        prefix = seconds.get(whole)
        if prefix is None:
            if len(seconds) > 4096:
                seconds.clear()
            prefix = seconds[whole] = datetime.datetime.fromtimestamp(whole).strftime(
                "%Y-%m-%d %H:%M:%S.")
        return f"{prefix}{int((t - whole) * 1e6):06d}"

    return to_text


class Statement:
    """A compiled statement; ``run`` takes rows with values in the order of ``names``."""

    def __init__(self, engine: Engine, stmt: sa.ClauseElement, names: Sequence[str]) -> None:
        compiled = stmt.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        params = tuple(getattr(compiled, "positiontup", None) or ())
        # the dialect orders parameters its own way (SET columns in table order, ...)
        order = [list(names).index(p) for p in params]
        self._order = None if order == list(range(len(names))) else order

    def run(self, conn: sa.Connection, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        order = self._order
        if order is None:
            conn.exec_driver_sql(self.sql, [tuple(r) for r in rows])
        else:
            conn.exec_driver_sql(self.sql, [tuple(r[i] for i in order) for r in rows])


def insert_ignoring_duplicates(engine: Engine, table: sa.Table,
                               columns: Sequence[str]) -> Statement:
    """``INSERT`` of ``columns`` (rows given in that order) that skips rows whose primary key
    exists: a record delivered twice must not fail the whole batch."""
    values: dict[str, Any] = {c: sa.bindparam(c) for c in columns}
    name = engine.dialect.name
    stmt: Any
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(values).on_conflict_do_nothing()
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).values(values).on_conflict_do_nothing()
    else:
        stmt = table.insert().values(values)
    return Statement(engine, stmt, columns)


def update_by_key(engine: Engine, table: sa.Table, key: Sequence[str],
                  columns: Sequence[str]) -> Statement:
    """``UPDATE table SET columns WHERE key``; rows give ``columns`` then ``key`` values."""
    where = [table.c[k] == sa.bindparam(f"k_{k}") for k in key]
    values: dict[str, Any] = {c: sa.bindparam(f"v_{c}") for c in columns}
    return Statement(engine, sa.update(table).where(*where).values(values),
                     [f"v_{c}" for c in columns] + [f"k_{k}" for k in key])
