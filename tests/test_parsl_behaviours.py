"""Behaviours Parsl users rely on: the deep dependency resolver, exit_mode, and the error
for an app called before any config is loaded."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, ThreadPoolExecutor, python_app
from plait.dataflow.dependency_resolvers import (
    DEEP_DEPENDENCY_RESOLVER,
    SHALLOW_DEPENDENCY_RESOLVER,
)
from plait.errors import ConfigurationError, NoDataFlowKernelError


@python_app
def echo(x: Any) -> Any:
    return x


def _config(run_dir: str, **options: Any) -> Config:
    return Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=run_dir,
                  strategy="none", **options)


def test_deep_resolver_finds_futures_at_any_depth(run_dir: str) -> None:
    plait.clear()
    with plait.load(_config(run_dir, dependency_resolver=DEEP_DEPENDENCY_RESOLVER)):
        gate: Future[int] = Future()
        nested = {"a": [1, (echo(2), {echo(3)})], echo("k"): {"deep": [[[gate]]]}}
        fut = echo(nested, inputs=[[echo(4)]])
        assert not fut.done()  # waits for the hand-made future deep inside
        gate.set_result(5)
        assert fut.result(timeout=30) == {"a": [1, (2, {3})], "k": {"deep": [[[5]]]}}


def test_shallow_resolver_passes_nested_futures_through(run_dir: str) -> None:
    plait.clear()
    with plait.load(_config(run_dir, dependency_resolver=SHALLOW_DEPENDENCY_RESOLVER)):
        inner = echo(1)
        assert echo([inner]).result(timeout=30)[0] is inner


@pytest.mark.parametrize("mode", ["cleanup", "skip", "wait"])
def test_exit_mode(run_dir: str, mode: str) -> None:
    release = threading.Event()

    @python_app
    def held() -> str:
        release.wait(30)
        return "done"

    plait.clear()
    with plait.load(_config(run_dir, exit_mode=mode)) as dfk:
        fut = held()
        if mode != "skip":  # the exit waits for the running thread: let it end soon
            threading.Timer(0.2, release.set).start()
    try:
        if mode == "skip":
            assert plait.dfk() is dfk and not dfk.cleanup_called
        else:
            assert dfk.cleanup_called
            with pytest.raises(NoDataFlowKernelError):
                plait.dfk()
        if mode == "wait":
            assert fut.done() and fut.result() == "done"
    finally:
        release.set()
        if mode == "skip":
            dfk.cleanup()
        plait.clear()


def test_exit_mode_is_validated() -> None:
    with pytest.raises(ConfigurationError, match="exit_mode='later' is not valid: expected "
                                                 "one of 'cleanup' or 'skip' or 'wait'"):
        Config(exit_mode="later")  # type: ignore[arg-type]
    config = Config()
    config.exit_mode = "nope"  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="exit_mode"):
        config.validate()


def test_app_before_load_says_to_load_a_config(tmp_path: Path) -> None:
    plait.clear()
    with pytest.raises(NoDataFlowKernelError, match=r"Must first load config: call "
                                                    r"plait\.load"):
        echo(1)
