"""A block whose node dies is replaced by the scaling strategy, and work carries on."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

import behaviour_tasks as t
import plait
from plait import Config, HighThroughputExecutor, python_app
from plait.providers import LocalProvider

HERE = os.path.dirname(os.path.abspath(__file__))
pid = python_app(t.pid)


@pytest.mark.timeout(90)
def test_lost_block_is_replaced_and_tasks_keep_running(tmp_path: Path) -> None:
    provider = LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1,
                             worker_init=f"export PYTHONPATH={HERE}")
    provider.status_polling_interval = 0.2
    htex = HighThroughputExecutor(max_workers_per_node=1, provider=provider,
                                  heartbeat_period=0.5, heartbeat_threshold=3)
    config = Config(executors=[htex], run_dir=str(tmp_path / "runinfo"), strategy="simple",
                    strategy_period=0.5)
    plait.clear()
    with plait.load(config):
        first_worker = pid().result(timeout=30)
        (first_job,) = list(htex.blocks_to_job_id.values())
        os.killpg(int(first_job), signal.SIGKILL)  # the whole block: manager and worker
        later_worker = pid().result(timeout=60)  # runs once a replacement block is up
        assert later_worker != first_worker
        assert len(htex.blocks_to_job_id) == 2  # the lost block and its replacement
