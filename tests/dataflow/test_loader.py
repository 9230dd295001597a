"""plait.load(): the kernel is built outside the loader's lock and published under it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def loading_slowly(tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Inside: another thread is in plait.load(), its executor still starting. The function
    it yields lets that start finish and returns the kernel built (cleaned up after)."""
    plait.clear()
    slow = SlowStart()
    loaded: list[Any] = []
    loader = threading.Thread(target=lambda: loaded.append(plait.load(Config(
        executors=[slow], run_dir=str(tmp_path / "a"), strategy="none"))))
    loader.start()

    def finish() -> Any:
        slow.proceed.set()
        loader.join(30)
        assert loaded, "the slow load did not finish"
        return loaded[0]

    try:
        assert slow.starting.wait(30)
        yield finish
    finally:
        finish().cleanup()
        plait.clear()


@pytest.mark.timeout(60)
def test_other_threads_are_not_blocked_while_a_config_loads(tmp_path: Path) -> None:
    """Before the fix, the loader held its lock while every executor started: a second
    load() (or clear()) waited for all of it."""
    with loading_slowly(tmp_path) as finish:
        assert isinstance(returns_promptly(plait.dfk), NoDataFlowKernelError)
        second = returns_promptly(lambda: plait.load(Config(run_dir=str(tmp_path / "b"))))
        assert isinstance(second, ConfigurationError)
        assert "being loaded" in str(second)
        loaded = finish()
        assert plait.dfk() is loaded


@pytest.mark.timeout(60)
def test_clear_during_a_load_leaves_the_new_kernel_unpublished(tmp_path: Path) -> None:
    with loading_slowly(tmp_path) as finish:
        assert returns_promptly(plait.clear) is None
        finish()
        with pytest.raises(NoDataFlowKernelError):
            plait.dfk()
        plait.load(Config(run_dir=str(tmp_path / "b"))).cleanup()


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
