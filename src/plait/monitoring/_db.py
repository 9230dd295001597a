"""Opening a monitoring database, creating its schema, and the writer's prepared statements.

SQLite is opened in WAL mode: readers (``plait status``, the dashboard) never block the
writer, and a committed batch survives a crash of the process that wrote it. The writer
inserts through the driver's ``executemany`` (see :mod:`._dbapi`) with statements
SQLAlchemy compiled for the database's dialect, four times faster than Core's per-row
parameter processing; for a plain SQLite file it does without SQLAlchemy (``_dbapi``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from plait.monitoring import _schema as s
from plait.monitoring._dbapi import Statement, set_pragmas
from plait.monitoring._errors import MonitoringDatabaseError


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
        sa.event.listen(engine, "connect", lambda dbapi, _record: set_pragmas(dbapi))
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


def _statement(engine: Engine, stmt: sa.ClauseElement, names: Sequence[str],
               group: int = 1) -> Statement:
    """``stmt`` compiled for the engine's dialect; rows give values in ``names`` order."""
    compiled = stmt.compile(dialect=engine.dialect)
    params = tuple(getattr(compiled, "positiontup", None) or ())
    # the dialect orders parameters its own way (SET columns in table order, ...)
    order = [list(names).index(p) for p in params]
    return Statement(str(compiled), None if order == list(range(len(names))) else order,
                     group)


def insert_ignoring_duplicates(engine: Engine, table: sa.Table,
                               columns: Sequence[str], group: int = 1) -> Statement:
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
    return _statement(engine, stmt, columns, group)


def update_by_key(engine: Engine, table: sa.Table, key: Sequence[str],
                  columns: Sequence[str]) -> Statement:
    """``UPDATE table SET columns WHERE key``; rows give ``columns`` then ``key`` values."""
    where = [table.c[k] == sa.bindparam(f"k_{k}") for k in key]
    values: dict[str, Any] = {c: sa.bindparam(f"v_{c}") for c in columns}
    return _statement(engine, sa.update(table).where(*where).values(values),
                      [f"v_{c}" for c in columns] + [f"k_{k}" for k in key])


def delete_by_key(engine: Engine, table: sa.Table, key: Sequence[str]) -> Statement:
    """``DELETE FROM table WHERE key``; rows give the ``key`` values."""
    where = [table.c[k] == sa.bindparam(f"k_{k}") for k in key]
    return _statement(engine, sa.delete(table).where(*where), [f"k_{k}" for k in key])
