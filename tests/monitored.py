"""Helpers for tests of monitoring: a run recorded into a database, the apps such runs use,
and reading it back."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

import plait
from plait import Config, ThreadPoolExecutor, python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.monitoring import MonitoringHub
from services import service


@python_app
def add(a: int, b: int = 0) -> int:
    return a + b


@python_app
def explode(message: str) -> None:
    raise ValueError(message)


@python_app
def wait_for(event: threading.Event) -> bool:
    return event.wait(60)


@contextmanager
def monitored_kernel(run_dir: str, url: str | None, hub: MonitoringHub | None = None,
                     **config: Any) -> Iterator[DataFlowKernel]:
    """Load a 4-thread kernel recording into ``url``; clean up (wait) and clear after."""
    plait.clear()
    hub = hub or MonitoringHub(logging_endpoint=url)
    dfk = plait.load(Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir,
                            strategy="none", monitoring=hub, **config))
    try:
        yield dfk
    finally:
        dfk.cleanup()
        plait.clear()


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of one query on the database at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of services/postgres.sh; dropped after."""
    import psycopg

    port = int(service("postgres")["PG_PORT"])
    name = f"plait_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"
    finally:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

