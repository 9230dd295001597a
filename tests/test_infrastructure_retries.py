"""A task lost with its worker is retried on its own budget, not the user's retries."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import behaviour_tasks as t
import plait
from plait import Config, HighThroughputExecutor, python_app
from plait.errors import TaskKilledWorker, WorkerLost
from plait.providers import LocalProvider

die_once = python_app(t.die_once)
HERE = os.path.dirname(os.path.abspath(__file__))


def config(run_dir: str, infrastructure_retries: int) -> Config:
    provider = LocalProvider(
        init_blocks=1, max_blocks=1,
        worker_init=f"export PYTHONPATH={HERE}${{PYTHONPATH:+:$PYTHONPATH}}")
    return Config(executors=[HighThroughputExecutor(max_workers_per_node=1, provider=provider)],
                  run_dir=run_dir, retries=0, strategy="none",
                  infrastructure_retries=infrastructure_retries)


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Any]:
    kernels = []

    def loader(infrastructure_retries: int) -> Any:
        plait.clear()
        kernels.append(plait.load(config(str(tmp_path / "runinfo"), infrastructure_retries)))
        return kernels[-1]

    yield loader
    for k in kernels:
        k.cleanup()
    plait.clear()


@pytest.mark.timeout(60)
def test_lost_worker_is_retried_without_spending_user_retries(load: Any, tmp_path: Path) -> None:
    load(infrastructure_retries=2)
    fut = die_once(str(tmp_path / "marker"))
    assert fut.result(timeout=30) == "survived"
    first, second = fut.task_record.tries
    assert isinstance(first.exception, WorkerLost) and second.exception is None
    assert fut.task_record.fail_cost == 0


@pytest.mark.timeout(60)
def test_without_budget_the_loss_surfaces_fast_and_names_the_worker(
    load: Any, tmp_path: Path,
) -> None:
    load(infrastructure_retries=0)
    start = time.monotonic()
    fut = die_once(str(tmp_path / "marker"))
    with pytest.raises(WorkerLost, match="SIGKILL") as info:
        fut.result(timeout=30)
    assert time.monotonic() - start < 10
    assert info.value.task_id is not None or "worker" in str(info.value)
    assert die_once(str(tmp_path / "marker")).result(timeout=30) == "survived"


@pytest.mark.timeout(90)
def test_a_task_that_kills_its_worker_fails_after_the_second_loss(
    load: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    """With the default budget of 3 it would kill four workers; it kills two, then fails
    with an error that blames it, shows the signal and names the worker's log."""
    load(infrastructure_retries=3)
    with caplog.at_level(logging.WARNING, logger="plait.dataflow"):
        fut = python_app(t.die_always)()
        with pytest.raises(TaskKilledWorker, match="SIGKILL") as info:
            fut.result(timeout=60)
    assert "likely cause" in str(info.value) and "each of the 2 workers" in str(info.value)
    assert isinstance(info.value.__cause__, WorkerLost)
    tries = fut.task_record.tries
    assert len(tries) == 2 and all(tr.infrastructure for tr in tries)
    warnings = [r.getMessage() for r in caplog.records if "retrying it as try" in r.getMessage()]
    assert len(warnings) == 1
    assert f"task {fut.tid} (die_always)" in warnings[0] and "worker" in warnings[0]
    assert "try 2" in warnings[0]
    assert python_app(t.add)(2, 3).result(timeout=30) == 5  # the executor still serves
