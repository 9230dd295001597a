"""Resource use of tasks on pilot workers, sampled by their manager and carried by each
radio (HTEX's own channel, signed UDP, files) into the monitoring database."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

import plait
from monitored import rows
from plait import Config, HighThroughputExecutor, python_app
from plait.monitoring import MonitoringHub
from plait.monitoring.radios import FilesystemRadio, HTEXRadio, UDPRadio
from plait.providers import LocalProvider


@pytest.mark.timeout(120)
@pytest.mark.parametrize("radio", [HTEXRadio(), UDPRadio(address="127.0.0.1"),
                                   FilesystemRadio()], ids=lambda r: type(r).__name__)
def test_workers_report_cpu_and_memory_of_their_tasks(radio: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    provider = LocalProvider(init_blocks=1, max_blocks=1, walltime=None)
    executor = HighThroughputExecutor(label="htex", max_workers_per_node=1,
                                      address="127.0.0.1", heartbeat_period=0.5,
                                      provider=provider, remote_monitoring_radio=radio)
    hub = MonitoringHub(logging_endpoint=url, resource_monitoring_interval=0.25)

    def burn(seconds: float) -> int:  # nested: pickled by value, workers import nothing
        import time

        held = bytearray(80_000_000)
        end = time.time() + seconds
        while time.time() < end:
            held[0] = (held[0] + 1) % 256
        return len(held)

    app = python_app(burn)
    plait.clear()
    with plait.load(Config(executors=[executor], run_dir=str(tmp_path / "runinfo"),
                           monitoring=hub, strategy="none")):
        fut = app(2.5)
        assert fut.result(timeout=60) == 80_000_000
    samples = rows(url, "SELECT psutil_process_memory_resident, psutil_process_time_user, "
                   "psutil_process_pid FROM resource WHERE task_id = :t ORDER BY timestamp",
                   t=fut.tid)
    assert len(samples) >= 2, samples
    assert max(r[0] for r in samples) > 80_000_000
    assert samples[-1][1] > samples[0][1] >= 0  # CPU time grows while the task runs
    assert rows(url, "SELECT hostname, block_id FROM try WHERE task_id = :t", t=fut.tid) == [
        (socket.gethostname(), "0")]
