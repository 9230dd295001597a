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


def test_task_record_is_a_read_only_mapping_with_parsl_keys(run_dir: str) -> None:
    from collections.abc import Mapping

    seen: list[int] = []

    def handler(exc: BaseException, record: Any) -> float:
        seen.append(record["fail_count"])
        return 1

    @python_app
    def flaky(x: int) -> int:
        if x < 0:
            raise ValueError(x)
        return x

    plait.clear()
    with plait.load(_config(run_dir, retries=1, retry_handler=handler)):
        fut = flaky(3)
        assert fut.result(timeout=30) == 3
        record = fut.task_record
        assert isinstance(record, Mapping)
        assert sorted(record) == sorted(record.keys()) and len(record) == len(list(record))
        assert {"id", "func_name", "status", "try_id", "fail_count", "app_fu", "memoize",
                "time_invoked", "time_returned"} <= set(record)
        assert "id" in record and "no such key" not in record
        assert record["id"] == fut.tid and record.get("func_name") == "flaky"
        assert record["status"].name == "exec_done"  # (app_fu is dropped once final)
        assert record.get("missing", 7) == 7
        assert dict(record.items())["memoize"] is False
        with pytest.raises(TypeError):
            record["id"] = 9  # type: ignore[index]
        with pytest.raises(ValueError):
            flaky(-1).result(timeout=30)
    assert seen == [1, 2]  # the handler read Parsl's key on each failed try


def test_log_config_in_config(run_dir: str) -> None:
    import json
    import logging
    import os

    from plait.logconfigs.json import JSONLogging
    from plait.logconfigs.noop import NoopLogging

    plait.clear()
    with plait.load(_config(run_dir, initialize_logging=JSONLogging(level=logging.INFO))) \
            as dfk:
        assert echo(1).result(timeout=30) == 1
    names = os.listdir(dfk.run_dir)
    assert "plait.jsonlog" in names and "plait.log" not in names
    with open(os.path.join(dfk.run_dir, "plait.jsonlog")) as f:
        records = [json.loads(line) for line in f]
    assert any(r["name"].startswith("plait") and "run" in r["message"] for r in records)
    with plait.load(_config(run_dir, log_config=NoopLogging())) as dfk:
        pass
    assert not {"plait.log", "plait.jsonlog"} & set(os.listdir(dfk.run_dir))
    with pytest.raises(ConfigurationError, match="initialize_logging='yes' is not valid"):
        Config(initialize_logging="yes")
    with pytest.raises(ConfigurationError, match="log_config=True is not valid: expected "
                                                 "None or a LogConfig"):
        Config(log_config=True)
