"""The writer's SQLite path without SQLAlchemy: the same schema SQLAlchemy creates, a newer
schema refused, and a database process that never imports SQLAlchemy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from plait.monitoring import _db, _dbapi, _schema, _sqlite_ddl
from plait.monitoring._errors import MonitoringDatabaseError


def _objects(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute("SELECT type, name, sql FROM sqlite_master "
                                   "WHERE name NOT LIKE 'sqlite_%'"))


def test_the_generated_ddl_is_the_schemas() -> None:
    # after a change to _schema: python -m plait.monitoring._schema
    assert Path(_sqlite_ddl.__file__).read_text() == _schema.sqlite_ddl_module()


def test_the_sqlite_path_creates_what_sqlalchemy_creates(tmp_path: Path) -> None:
    engine = _db.open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        _db.ensure_schema(engine)
    finally:
        engine.dispose()
    _dbapi.open_sqlite(str(tmp_path / "new" / "b.db")).close()
    expected = _objects(tmp_path / "a.db")
    assert [name for _, name, _ in expected if name == "status"] == ["status"]
    assert _objects(tmp_path / "new" / "b.db") == expected
    _dbapi.open_sqlite(str(tmp_path / "a.db")).close()  # an existing database: unchanged
    assert _objects(tmp_path / "a.db") == expected


def test_the_sqlite_path_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    _dbapi.open_sqlite(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE plait_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(MonitoringDatabaseError, match="schema version 99, newer"):
        _dbapi.open_sqlite(str(path))


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:////tmp/x/m.db", "/tmp/x/m.db"), ("sqlite:///m.db", "m.db"),
    ("sqlite:///m.db?timeout=5", None), ("sqlite+pysqlite:///m.db", None),
    ("sqlite://", None), ("sqlite:///:memory:", None), ("postgresql://h/db", None)])
def test_only_a_plain_sqlite_file_url_takes_the_sqlite_path(url: str,
                                                            path: str | None) -> None:
    assert _dbapi.sqlite_path(url) == path
    assert sa.make_url(url).get_backend_name() == _dbapi.backend_of(url)


def test_the_database_process_does_not_import_sqlalchemy_for_sqlite(tmp_path: Path) -> None:
    code = ("import sys; from plait.monitoring import _dbproc, _records as R; "
            "from plait.monitoring._writer import Writer; "
            f"w = Writer('sqlite:///{tmp_path}/m.db', 'r1', print); "
            "w.add([(R.WORKFLOW, 'r1', 'n', 'v', 1e9, 'h', 'u', '/d', None, '[]', '/', None, "
            "None, 1, '3', '0', '[]'), (R.TASK, 0, 'f', 1e9, 'threads', False, None, None, "
            "None, None, None, None, None), (R.STATE, 0, 7, 1e9, 0)]); w.commit(); "
            "assert w.committed == 3, w.stats(); "
            "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"
    with sqlite3.connect(tmp_path / "m.db") as conn:
        assert conn.execute("SELECT task_id, task_status_name FROM status "
                            "ORDER BY timestamp, task_status_name DESC").fetchall() == [
            (0, "pending"), (0, "launched")]
