"""plait.load(): the kernel is built outside the loader's lock and published under it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, ThreadPoolExecutor
from plait.errors import ConfigurationError, NoDataFlowKernelError


class SlowStart(ThreadPoolExecutor):
    """An executor whose start() waits until the test lets it go (a slow block, a spawn)."""

    def __init__(self) -> None:
        super().__init__(label="slow")
        self.starting, self.proceed = threading.Event(), threading.Event()

    def start(self) -> None:
        self.starting.set()
        self.proceed.wait(30)
        super().start()


def returns_promptly(call: Callable[[], Any]) -> BaseException | object:
    """Run ``call`` in a thread; fail unless it returns (or raises) within 10 s."""
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    assert outcome, f"{call} was blocked while another thread loaded a config"
    return outcome[0]


@pytest.mark.timeout(60)
def test_other_threads_are_not_blocked_while_a_config_loads(tmp_path: Path) -> None:
    """Before the fix, the loader held its lock while every executor started: a second
    load() (or clear()) waited for all of it."""
    plait.clear()
    slow = SlowStart()
    loaded: list[Any] = []
    loader = threading.Thread(target=lambda: loaded.append(plait.load(Config(
        executors=[slow], run_dir=str(tmp_path / "a"), strategy="none"))))
    loader.start()
    try:
        assert slow.starting.wait(30)
        assert isinstance(returns_promptly(plait.dfk), NoDataFlowKernelError)
        second = returns_promptly(lambda: plait.load(Config(run_dir=str(tmp_path / "b"))))
        assert isinstance(second, ConfigurationError)
        assert "being loaded" in str(second)
    finally:
        slow.proceed.set()
        loader.join(30)
    try:
        assert plait.dfk() is loaded[0]
    finally:
        loaded[0].cleanup()
        plait.clear()


@pytest.mark.timeout(60)
def test_clear_during_a_load_leaves_the_new_kernel_unpublished(tmp_path: Path) -> None:
    plait.clear()
    slow = SlowStart()
    loaded: list[Any] = []
    loader = threading.Thread(target=lambda: loaded.append(plait.load(Config(
        executors=[slow], run_dir=str(tmp_path / "a"), strategy="none"))))
    loader.start()
    try:
        assert slow.starting.wait(30)
        assert returns_promptly(plait.clear) is None
    finally:
        slow.proceed.set()
        loader.join(30)
    try:
        with pytest.raises(NoDataFlowKernelError):
            plait.dfk()
        again = plait.load(Config(run_dir=str(tmp_path / "b")))
        again.cleanup()
    finally:
        loaded[0].cleanup()
        plait.clear()


def test_a_failed_load_frees_the_slot(tmp_path: Path) -> None:
    plait.clear()

    class Broken(ThreadPoolExecutor):
        def start(self) -> None:
            raise OSError("cannot start")

    with pytest.raises(OSError):
        plait.load(Config(executors=[Broken()], run_dir=str(tmp_path / "a")))
    dfk = plait.load(Config(run_dir=str(tmp_path / "b")))
    try:
        assert plait.dfk() is dfk
    finally:
        dfk.cleanup()
        plait.clear()
