"""Opt-in usage tracking: off by default; at level 3 a start and an end message reach the
configured UDP endpoint (a socket of this test); no endpoint, nothing sent; a dead endpoint
costs the run nothing; ``plait usage --show`` prints the messages."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernels import kernel
from plait import python_app
from plait.cli._main import main
from plait.usage_tracking import ENDPOINT_ENV, LEVEL_3


@python_app
def add(a: int) -> int:
    return a + 1


@python_app
def explode() -> None:
    raise ValueError("x")


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(30)
    monkeypatch.setenv(ENDPOINT_ENV, f"127.0.0.1:{sock.getsockname()[1]}")
    yield sock
    sock.close()


def receive(sock: socket.socket) -> dict[str, object]:
    data = sock.recv(65536)
    assert data[:1] == b"1"
    message: dict[str, object] = json.loads(data[1:])
    return message


def test_level_3_sends_start_and_end(run_dir: str, collector: socket.socket) -> None:
    with kernel(run_dir, usage_tracking=LEVEL_3, project_name="survey") as dfk:
        start = receive(collector)
        assert [add(i).result(timeout=30) for i in range(3)] == [1, 2, 3]
        explode().exception(timeout=30)
    end = receive(collector)
    assert start["correlator"] == end["correlator"] == dfk._usage.correlator
    assert start["components"] == ["ThreadPoolExecutor"] and start["project_name"] == "survey"
    assert set(start) >= {"plait_v", "python_v", "platform.system", "tracking_level"}
    assert (end["tasks"], end["failed"]) == (4, 1)
    assert not any(isinstance(v, str) and run_dir in v for v in (*start.values(),
                                                                 *end.values()))


def test_off_by_default_and_no_endpoint_sends_nothing(run_dir: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    with kernel(run_dir) as dfk:
        assert dfk._usage is None
    with kernel(run_dir, usage_tracking=LEVEL_3) as dfk:
        add(1).result(timeout=30)
    assert dfk._usage.threads == []


def test_a_dead_endpoint_costs_the_run_nothing(run_dir: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    monkeypatch.setenv(ENDPOINT_ENV, f"127.0.0.1:{port}")
    with kernel(run_dir, usage_tracking=LEVEL_3) as dfk:
        assert add(1).result(timeout=30) == 2
    assert all(t.daemon for t in dfk._usage.threads)


def test_plait_usage_show_prints_every_level(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    assert main(["usage", "--show"]) == 0
    out = capsys.readouterr().out
    assert "off (the default)" in out and "nothing is sent" in out
    assert "level 1:" in out and "level 3:" in out and '"tasks": 0' in out
    config = tmp_path / "cfg.py"
    config.write_text("from plait import Config\nconfig = Config(usage_tracking=2)\n")
    assert main(["usage", "--show", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "on, level 2" in out and "level 1:" not in out and '"components"' in out
