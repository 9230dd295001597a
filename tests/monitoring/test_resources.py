"""Resource sampling and the radios that carry samples: a real busy process sampled with
psutil, UDP (signed) and file-system radios end to end, and samples mapped by the hub to
the task and try they measured."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from monitored import monitored_kernel, rows
from plait import python_app
from plait._sampling import ResourceSampler, make_sender
from plait.monitoring.radios import FilesystemRadio, HTEXRadio, UDPRadio

BURN = ("x = 0\nfor i in range(20_000_000):\n    x += i\nbuf = bytearray(50_000_000)\n"
        "print('burnt', flush=True)\nimport sys; sys.stdin.read()\n")


def test_sampler_counts_a_tasks_cpu_and_memory_from_its_start(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        sampler = ResourceSampler("node1", "0", 5.0)
        sampler.task_started(proc.pid)
        assert proc.stdout is not None and proc.stdout.readline() == "burnt\n"
        [sample] = sampler.sample({proc.pid: 41})
    finally:
        proc.kill()
        proc.wait()
    tid, _, interval, host, block, pid, _, children, user, system, _, rss = sample[:12]
    assert (tid, interval, host, block, pid, children) == (41, 5.0, "node1", "0", proc.pid, 0)
    assert user + system > 0.2 and rss > 50_000_000


class Collected:
    def __init__(self) -> None:
        self.records: list[tuple[Any, ...]] = []
        self.arrived = threading.Event()

    def __call__(self, records: list[tuple[Any, ...]]) -> None:
        self.records += records
        self.arrived.set()


def test_udp_radio_delivers_signed_records_and_drops_forged_ones(tmp_path: Path) -> None:
    radio = UDPRadio(address="127.0.0.1")
    got = Collected()
    receiver = radio.start_receiver(str(tmp_path), got)
    try:
        spec = radio.spec(str(tmp_path))
        forged = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        forged.sendto(b"\0" * 64 + b"not signed", ("127.0.0.1", spec["port"]))
        forged.close()
        many = [(i, 1.0, "x" * 200) for i in range(1000)]  # more than one datagram
        make_sender(spec)(many)
        assert got.arrived.wait(30)
        while len(got.records) < len(many):
            got.arrived.clear()
            assert got.arrived.wait(30), f"{len(got.records)} of {len(many)} arrived"
        assert sorted(got.records) == many
        assert receiver.rejected == 1
    finally:
        receiver.stop()


def test_filesystem_radio_delivers_whole_files(tmp_path: Path) -> None:
    radio = FilesystemRadio()
    got = Collected()
    receiver = radio.start_receiver(str(tmp_path), got)
    try:
        make_sender(radio.spec(str(tmp_path)))([(7, 2.0), (8, 3.0)])
        assert got.arrived.wait(30)
        assert got.records == [(7, 2.0), (8, 3.0)]
        assert os.listdir(tmp_path / "monitor-fs-radio" / "new") == []
    finally:
        receiver.stop()


def test_htex_radio_needs_the_executors_channel() -> None:
    from plait.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="remote_monitoring_radio"):
        make_sender(HTEXRadio().spec("."))


@python_app
def hold(event: threading.Event) -> bool:
    return event.wait(60)


def test_hub_maps_samples_to_their_task_and_try(sqlite_url: str, tmp_path: Path) -> None:
    with monitored_kernel(str(tmp_path / "runinfo"), sqlite_url) as dfk:
        gate = threading.Event()
        fut = hold(gate)
        exec_future = dfk.tasks[fut.tid].exec_future
        sampler = ResourceSampler("node7", "3", 30.0)
        sampler.task_started(os.getpid())
        [sample] = sampler.sample({os.getpid(): 999})
        [session] = dfk.monitoring._sessions.values()
        session.recorder.resources([(exec_future, sample[1:])])
        assert dfk.monitoring.flush(30)
        gate.set()
        fut.result(timeout=30)
    [(task_id, try_id, rss, interval)] = rows(
        sqlite_url, "SELECT task_id, try_id, psutil_process_memory_resident, "
        "resource_monitoring_interval FROM resource")
    assert (task_id, try_id, interval) == (fut.tid, 0, 30.0) and rss > 1_000_000
    assert rows(sqlite_url, "SELECT hostname, block_id FROM try WHERE task_id = :t",
                t=fut.tid) == [("node7", "3")]
