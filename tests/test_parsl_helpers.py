"""The small Parsl helpers behind the import paths behave as Parsl documents them:
ParslPoolExecutor, addresses, Timer, wrap_with_logs, log configs, timeout, manager
selectors, the windowed block error handler, Strategy, and the serializer classes."""

from __future__ import annotations

import functools
import http.server
import json
import logging
import pickle
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, ThreadPoolExecutor
from plait.errors import AppTimeout, ConfigurationError, OptionalModuleMissing


def _config(run_dir: str) -> Config:
    return Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=run_dir,
                  strategy="none")


def add(a: int, b: int) -> int:
    return a + b


# -- ParslPoolExecutor ---------------------------------------------------------------------
def test_pool_executor_submit_map_and_context(run_dir: str) -> None:
    from plait.concurrent import ParslPoolExecutor

    plait.clear()
    with ParslPoolExecutor(_config(run_dir)) as pool:
        first = pool.submit(add, 1, 2)
        chained = pool.submit(add, first, 10)  # an AppFuture is a dependency
        assert chained.result(timeout=30) == 13
        assert list(pool.map(add, [1, 2, 3], [10, 20, 30], timeout=30)) == [11, 22, 33]
        assert pool.app_count == 1 and pool.get_app(add) is pool.get_app(add)
        part = pool.submit(functools.partial(add, 100), 1)  # no __name__: still an app
        assert part.result(timeout=30) == 101
        dfk = pool.dfk
    assert dfk.cleanup_called
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(add, 1, 1)
    with pytest.raises(ValueError, match="exactly one"):
        ParslPoolExecutor()


def test_pool_executor_map_timeout_and_cancel(run_dir: str) -> None:
    from concurrent.futures import TimeoutError as FutureTimeout

    from plait.concurrent import ParslPoolExecutor

    gate = threading.Event()

    def held(x: int) -> int:
        gate.wait(30)
        return x

    plait.clear()
    pool = ParslPoolExecutor(_config(run_dir))  # 2 threads: the third task waits
    try:
        results = pool.map(held, [1, 2, 3], timeout=0.2)
        with pytest.raises(FutureTimeout, match=r"result 0 of 3 not ready after 0\.2 s"):
            list(results)
        queued = pool.submit(held, 4)
        pool.shutdown(wait=False, cancel_futures=True)  # returns while two tasks still run
        assert queued.cancelled()  # Parsl can only warn; plait cancels what has not started
    finally:
        gate.set()
        cleaners = [t for t in threading.enumerate() if t.name == "plait-pool-cleanup"]
        for thread in cleaners:
            thread.join(30)
        assert pool.dfk.cleanup_called and not any(t.is_alive() for t in cleaners)
        plait.clear()


def test_pool_executor_on_a_given_kernel_leaves_it_running(run_dir: str) -> None:
    from plait.concurrent import ParslPoolExecutor
    from plait.dataflow.dflow import DataFlowKernel

    with DataFlowKernel(_config(run_dir)) as dfk:
        pool = ParslPoolExecutor(dfk=dfk)
        assert pool.submit(add, 2, 2).result(timeout=30) == 4
        pool.shutdown()
        assert not dfk.cleanup_called


# -- addresses -----------------------------------------------------------------------------
def test_addresses() -> None:
    from plait.addresses import (
        address_by_hostname,
        address_by_interface,
        get_all_addresses,
        get_any_address,
        tcp_url,
    )

    assert address_by_hostname()
    assert address_by_interface("lo") == "127.0.0.1"
    with pytest.raises(ValueError, match=r"no-such-if.*lo \(127.0.0.1\)"):
        address_by_interface("no-such-if")
    assert "127.0.0.1" in get_all_addresses()
    assert get_any_address()
    assert tcp_url("::1", 5) == "tcp://[::1]:5" and tcp_url("10.0.0.1") == "tcp://10.0.0.1"


@pytest.fixture
def answering_server() -> Iterator[str]:
    """An HTTP server on a free loopback port that answers 192.0.2.7 (our stand-in for ipify)."""
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"192.0.2.7\n" if self.path == "/" else b"not an address")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_address_by_query(answering_server: str) -> None:
    from plait.addresses import address_by_query

    assert address_by_query(timeout=10, url=answering_server + "/") == "192.0.2.7"
    with pytest.raises(OSError, match="not an IP address"):
        address_by_query(timeout=10, url=answering_server + "/bad")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    with pytest.raises(OSError, match="could not ask"):
        address_by_query(timeout=5, url=closed)


# -- Timer, wrap_with_logs -----------------------------------------------------------------
def test_timer_calls_back_periodically_until_closed() -> None:
    from plait.utils import Timer

    calls: list[int] = []
    third = threading.Event()

    def tick(tag: int) -> None:
        calls.append(tag)
        if len(calls) == 3:
            third.set()

    timer = Timer(tick, 7, interval=0.01, name="test")
    assert third.wait(10)
    timer.close()
    seen = len(calls)
    timer.make_callback()
    assert calls[-1] == 7 and len(calls) == seen + 1
    with pytest.raises(ValueError, match="interval"):
        Timer(tick, interval=0)


def test_wrap_with_logs(caplog: pytest.LogCaptureFixture) -> None:
    from plait.process_loggers import wrap_with_logs

    @wrap_with_logs
    def fine() -> int:
        return 1

    @wrap_with_logs(target="mine")
    def broken() -> None:
        raise KeyError("x")

    with caplog.at_level(logging.DEBUG, logger="plait.process_loggers"):
        assert fine() == 1
        with pytest.raises(KeyError):
            broken()
    messages = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert ("plait.process_loggers", "DEBUG", "Normal ending for fine") in messages
    assert ("mine", "ERROR", "Exceptional ending for broken") in messages


# -- log configs ---------------------------------------------------------------------------
def test_log_configs_write_where_parsl_does(tmp_path: Path) -> None:
    from plait.logconfigs.file import FileLogging
    from plait.logconfigs.json import JSONLogging
    from plait.logconfigs.noop import NoopLogging

    for config in (FileLogging(level=logging.INFO), JSONLogging(), NoopLogging()):
        assert pickle.loads(pickle.dumps(config)) == config
    plait_logger = logging.getLogger("plait")
    before = plait_logger.level
    undo_file = FileLogging(level=logging.INFO).initialize_logging(log_dir=tmp_path,
                                                                   log_name="run")
    undo_json = JSONLogging().initialize_logging(log_dir=tmp_path, log_name="run")
    logging.getLogger("plait.test").info("hello %s", "there", extra={"plait.task": 3})
    undo_file()
    undo_json()
    NoopLogging().initialize_logging(log_dir=tmp_path, log_name="run")()
    assert plait_logger.level == before
    line = (tmp_path / "run.log").read_text().splitlines()[0]
    float(line.split()[0])  # Parsl's format starts with the epoch time
    assert line.endswith("INFO: hello there")
    record = json.loads((tmp_path / "run.jsonlog").read_text().splitlines()[0])
    assert record["message"] == "hello there" and record["plait.task"] == 3


# -- timeout -------------------------------------------------------------------------------
def test_timeout_wrapper() -> None:
    from plait.app.python import timeout

    def spin(n: float) -> str:
        import time

        end = time.monotonic() + n
        while time.monotonic() < end:  # Python bytecode, so the timeout can interrupt it
            pass
        return "done"

    assert timeout(spin, 5)(0.01) == "done"
    with pytest.raises(AppTimeout, match="spin exceeded walltime"):
        timeout(spin, 0.05)(10)


# -- manager selectors, block error handlers, Strategy -------------------------------------
def test_manager_selectors() -> None:
    from plait.executors.high_throughput.manager_selector import (
        BlockIdManagerSelector,
        RandomManagerSelector,
    )

    ready = {b"m1": {"block_id": "10"}, b"m2": {"block_id": "2"}, b"m3": {"block_id": "0"}}
    assert BlockIdManagerSelector().sort_managers(ready, set(ready)) == [b"m3", b"m2", b"m1"]
    assert sorted(RandomManagerSelector().sort_managers(ready, set(ready))) == sorted(ready)


class _Executor:
    provider = None

    def __init__(self) -> None:
        self.bad: BaseException | None = None

    def set_bad_state_and_fail_all(self, exc: BaseException) -> None:
        self.bad = exc

    def block_failure(self, block_id: str, status: Any) -> BaseException:
        from plait.errors import BlockFailed

        return BlockFailed(block_id, "its job failed")


def test_windowed_error_handler() -> None:
    from plait.jobs.error_handlers import windowed_error_handler
    from plait.jobs.states import JobState, JobStatus

    failed, running = JobStatus(JobState.FAILED), JobStatus(JobState.RUNNING)
    ex = _Executor()
    windowed_error_handler(ex, {"0": running, "1": failed, "2": failed}, threshold=3)
    assert ex.bad is None
    windowed_error_handler(ex, {"0": running, "1": failed, "2": failed, "10": failed},
                           threshold=3)
    assert str(ex.bad) == "block 10 failed: its job failed"


def test_strategy_scales_an_executor_out() -> None:
    from plait.jobs.strategy import Strategy
    from plait.providers import LocalProvider

    class Busy:
        label, bad_state_is_set, outstanding, workers_per_node = "busy", False, 4, 1
        provider = LocalProvider(init_blocks=0, max_blocks=3)

        def __init__(self) -> None:
            self.asked: list[int] = []

        def poll_status(self) -> dict[str, Any]:
            return {}

        def scale_out(self, n: int) -> None:
            self.asked.append(n)

    ex = Busy()
    strategy = Strategy(strategy="simple", max_idletime=60)
    strategy.add_executors([ex])
    strategy.strategize([ex])
    assert ex.asked == [3]  # 4 tasks, 1 slot per block, at most max_blocks


# -- serializers ---------------------------------------------------------------------------
def test_serializer_classes() -> None:
    from plait.serialize.concretes import DillSerializer, PickleSerializer
    from plait.serialize.errors import SerializationError

    pickler = PickleSerializer()
    assert pickler.identifier == b"01" and DillSerializer().identifier == b"02"
    assert pickler.deserialize(pickler.serialize({"a": [1, 2]})) == {"a": [1, 2]}
    with pytest.raises(SerializationError, match="generator"):
        pickler.serialize(x for x in ())
    try:
        import dill  # noqa: F401
    except ImportError:
        with pytest.raises(OptionalModuleMissing, match="dill"):
            DillSerializer().serialize(1)
    else:
        dill_s = DillSerializer()
        assert dill_s.deserialize(dill_s.serialize(lambda: 5))() == 5


# -- apps from callables without __name__ --------------------------------------------------
class Scale:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, x: int) -> int:
        return self.factor * x


def test_apps_from_partials_and_callable_objects(dfk: Any, tmp_path: Path) -> None:
    from plait import bash_app, python_app

    part = python_app(functools.partial(add, 40))
    obj = python_app(Scale(3))
    assert part.__name__ == "add" and obj.__name__ == "Scale"
    assert part(2).result(timeout=30) == 42 and obj(5).result(timeout=30) == 15

    def echo(word: str, stdout: Any = None) -> str:
        return f"echo {word}"

    out = tmp_path / "out.txt"
    assert bash_app(functools.partial(echo, "hi"))(stdout=str(out)).result(timeout=30) == 0
    assert out.read_text() == "hi\n"


# -- pilot executor: Parsl's methods -------------------------------------------------------
def test_pilot_executor_parsl_methods() -> None:
    from plait.errors import ConfigurationError, InvalidResourceSpecification
    from plait.executors import HighThroughputExecutor
    from plait.executors.high_throughput.manager_selector import (
        BlockIdManagerSelector,
        ManagerSelector,
    )

    ex = HighThroughputExecutor(manager_selector=BlockIdManagerSelector())
    assert ex.outstanding == 0 and ex.outstanding() == 0  # plait's property, Parsl's method
    ex.validate_resource_spec({"priority": 1, "cores": 2})
    with pytest.raises(InvalidResourceSpecification, match="num_ranks"):
        ex.validate_resource_spec({"num_ranks": 2})

    class Mine(ManagerSelector):
        def sort_managers(self, ready_managers: Any, manager_list: Any) -> list[Any]:
            return list(manager_list)

    with pytest.raises(ConfigurationError, match=r"manager_selector=.* would be ignored"):
        HighThroughputExecutor(manager_selector=Mine())


def test_too_many_job_failures_is_a_bad_state() -> None:
    from plait.errors import BadStateException, BlockFailed
    from plait.jobs.error_handlers import simple_error_handler
    from plait.jobs.errors import TooManyJobFailuresError
    from plait.jobs.states import JobState, JobStatus
    from plait.providers import LocalProvider

    class Blocks(_Executor):
        provider = LocalProvider(init_blocks=1)

        def never_started_blocks(self, status: Any) -> list[str]:
            return list(status)

        def block_failure(self, block_id: str, status: Any) -> BlockFailed:
            return BlockFailed(block_id, "its job ended", 3, "no such module")

    ex = Blocks()
    simple_error_handler(ex, {"0": JobStatus(JobState.FAILED)})
    assert isinstance(ex.bad, TooManyJobFailuresError)
    assert isinstance(ex.bad, BadStateException) and isinstance(ex.bad, BlockFailed)
    assert str(ex.bad).startswith("block 0 failed: its job ended; it exited with code 3")
    assert str(pickle.loads(pickle.dumps(ex.bad))) == str(ex.bad)


@pytest.mark.timeout(90)
def test_pilot_executor_reports_managers_with_parsl_fields(run_dir: str) -> None:
    from plait.executors import HighThroughputExecutor
    from plait.jobs.error_handlers import windowed_error_handler
    from plait.providers import LocalProvider

    htex = HighThroughputExecutor(max_workers_per_node=2, provider=LocalProvider(),
                                  block_error_handler=windowed_error_handler)
    assert htex.block_error_handler is windowed_error_handler
    plait.clear()
    with plait.load(Config(executors=[htex], run_dir=run_dir, strategy="none")):
        assert plait.python_app(add)(1, 2).result(timeout=60) == 3  # a manager is up
        managers = htex.connected_managers()
        assert len(managers) == 1 and {
            "manager", "block_id", "worker_count", "tasks", "idle_duration", "active",
            "parsl_version", "python_version", "draining"} <= set(managers[0])
        from plait.executors.high_throughput.manager_record import ManagerRecord

        assert set(managers[0]) <= set(ManagerRecord.__annotations__)  # typed, every field
        assert htex.connected_workers() == 2 and htex.workers_per_node == 2
        assert htex.connected_blocks() == [managers[0]["block_id"]]


@pytest.mark.timeout(90)
def test_blocks_that_never_connect_fail_tasks_with_bad_state(run_dir: str) -> None:
    from plait.errors import BadStateException, BlockFailed
    from plait.executors import HighThroughputExecutor
    from plait.providers import LocalProvider

    broken = LocalProvider(worker_init="echo 'no such environment' >&2; exit 3")
    htex = HighThroughputExecutor(provider=broken)
    plait.clear()
    with plait.load(Config(executors=[htex], run_dir=run_dir, strategy="none",
                           infrastructure_retries=0)):
        fut = plait.python_app(add)(1, 2)
        exc = fut.exception(timeout=60)
    assert isinstance(exc, BadStateException) and isinstance(exc, BlockFailed)
    assert "exited with code 3" in str(exc) and "no such environment" in str(exc)


def test_parsl_launch_cmd_is_refused_at_construction(tmp_path: Path) -> None:
    """A migrated config's launch_cmd naming Parsl's worker pool or Parsl-only fields fails
    when the executor is built, naming plait's fields (it was a KeyError at load)."""
    from plait.executors import HighThroughputExecutor
    from plait.executors.pilot._settings import LAUNCH_FIELDS

    with pytest.raises(ConfigurationError, match=r"process_worker_pool.py cannot talk to "
                       r"plait's interchange; leave launch_cmd=None.*block_id"):
        HighThroughputExecutor(launch_cmd="process_worker_pool.py {debug} -a {addresses}")
    with pytest.raises(ConfigurationError, match=r"unknown field\(s\) \{logconf\}, "
                       r"\{mpi_launcher\}"):
        HighThroughputExecutor(launch_cmd="{python} {logconf} {mpi_launcher} {block_id}")
    with pytest.raises(ConfigurationError, match=r"a str\.format template"):
        HighThroughputExecutor(launch_cmd="{python} {debug")
    from plait.executors.high_throughput.executor import DEFAULT_LAUNCH_CMD

    wrapped = HighThroughputExecutor(launch_cmd="env PLAIT_X=1 " + DEFAULT_LAUNCH_CMD)
    wrapped.run_dir = str(tmp_path)
    assert wrapped._get_launch_command("3").startswith("env PLAIT_X=1 ")
    # every allowed field is one the executor fills in
    every = " ".join(f"<{{{f}}}>" for f in sorted(LAUNCH_FIELDS))
    htex = HighThroughputExecutor(launch_cmd=every)
    htex.run_dir = str(tmp_path)
    assert "{" not in htex._get_launch_command("7") and "<7>" in htex._get_launch_command("7")
