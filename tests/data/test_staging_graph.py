"""Staging in the task graph, on the thread executor: separate staging tasks with their own
states, in-task staging, Parsl-style providers, errors on the future, sandboxes."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import plait
from plait import Config, File, ThreadPoolExecutor, bash_app, python_app
from plait.data import Staging, TransferStaging
from plait.data_provider.ftp import FTPInTaskStaging
from plait.data_provider.http import HTTPInTaskStaging, HTTPSeparateTaskStaging
from plait.dataflow.dflow import DataFlowKernel
from plait.dataflow.states import States
from plait.errors import DependencyError, NoStagingProvider, StagingError
from staging_sites import Site

TIMEOUT = 30


def kernel(run_dir: Path, storage: list[Any] | None, **executor: Any) -> DataFlowKernel:
    ex = ThreadPoolExecutor(max_threads=4, storage_access=storage, **executor)
    plait.clear()
    return plait.load(Config(executors=[ex], run_dir=str(run_dir), strategy="none"))


@python_app
def read(f: File) -> bytes:
    with open(f, "rb") as fh:
        return fh.read()


@python_app
def read_inputs(inputs: list[File] = ()) -> list[bytes]:  # type: ignore[assignment]
    from pathlib import Path

    return [Path(f).read_bytes() for f in inputs]


@python_app
def write(data: bytes, outputs: list[File] = ()) -> str:  # type: ignore[assignment]
    with open(outputs[0], "wb") as fh:
        fh.write(data)
    return str(outputs[0])


def test_separate_task_staging_is_a_task_with_its_own_states(http: Site,
                                                              tmp_path: Path) -> None:
    url = http.put("in.bin", b"payload")
    with kernel(tmp_path / "run", [HTTPSeparateTaskStaging(cache=False)],
                working_dir=str(tmp_path / "work")) as dfk:
        seen: list[Any] = []
        dfk.subscribe(seen.append)
        user_file = File(url)
        fut = read(user_file)
        assert fut.result(timeout=TIMEOUT) == b"payload"
    assert user_file.local_path is None  # the user's File is never changed (Parsl #1316)
    assert (tmp_path / "work" / "in.bin").read_bytes() == b"payload"
    staging = {e.task_id for e in seen if e.new is States.staging_in}
    assert len(staging) == 1 and fut.tid not in staging
    moves = [(e.old, e.new) for e in seen if e.task_id in staging]
    assert moves == [(States.pending, States.pending), (States.pending, States.staging_in),
                     (States.staging_in, States.exec_done)]


def test_in_task_staging_fetches_on_the_worker(http: Site, tmp_path: Path) -> None:
    urls = [http.put(f"f{i}", bytes([i]) * 10) for i in range(3)]
    with kernel(tmp_path / "run", [HTTPInTaskStaging(cache=False)],
                working_dir=str(tmp_path / "work")) as dfk:
        fut = read_inputs(inputs=[File(u) for u in urls])
        assert fut.result(timeout=TIMEOUT) == [bytes([i]) * 10 for i in range(3)]
        assert dfk.task_count == 1  # no staging tasks


def test_stage_out_over_ftp_then_in_to_a_dependent(ftp: Site, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    providers = [FTPInTaskStaging(cache=False)]
    url = f"{ftp.url}/results/out.bin"
    caplog.set_level(logging.INFO, "plait.data")
    with kernel(tmp_path / "run", providers, working_dir=str(tmp_path / "work")):
        w = write(b"result bytes", outputs=[File(url)])
        df = w.outputs[0]
        assert df.result(timeout=TIMEOUT).url == url
        assert (ftp.root / "results" / "out.bin").read_bytes() == b"result bytes"
        assert read(df).result(timeout=TIMEOUT) == b"result bytes"
    host = urlsplit(url).netloc.rpartition("@")[2]
    assert f"staging out {url.replace(':plait-test@', ':***@')} for executor threads: on " \
        f"the worker, in the task, to {host}" in caplog.text
    assert "plait-test" not in caplog.text  # the password never reaches the log


def test_failed_fetch_fails_the_task_and_its_dependents(http: Site, tmp_path: Path) -> None:
    url = f"{http.url}/missing.bin"
    with kernel(tmp_path / "run", [HTTPSeparateTaskStaging(cache=False, attempts=2)]):
        first = read(File(url))
        with pytest.raises(DependencyError) as info:
            first.result(timeout=TIMEOUT)
        assert url in str(info.value) and "HTTP 404" in str(info.value)
    with kernel(tmp_path / "run2", [HTTPInTaskStaging(cache=False)]):
        fut = read(File(url))
        with pytest.raises(StagingError, match="HTTP 404"):
            fut.result(timeout=TIMEOUT)
        with pytest.raises(DependencyError, match="HTTP 404"):
            read(fut).result(timeout=TIMEOUT)


def test_unstageable_url_fails_at_the_call_naming_what_is_supported(tmp_path: Path) -> None:
    with kernel(tmp_path / "run", None) as dfk:
        with pytest.raises(NoStagingProvider) as info:
            read(File("s3://bucket/key"))
        text = str(info.value)
        assert "s3://bucket/key" in text and "ftp, http, https, zip" in text
        dfk.wait_for_current_tasks(timeout=TIMEOUT)  # nothing was left half-submitted


class SP2(Staging):
    """Parsl's test provider (test_1316): sets local_path, launches nothing."""

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "sp2"

    def stage_in(self, dm: Any, executor: str, file: File, parent_fut: Any) -> None:
        file.local_path = "./test1.tmp"

    def can_stage_out(self, file: File) -> bool:
        return file.scheme == "sp2"

    def stage_out(self, dm: Any, executor: str, file: File, app_fu: Any) -> None:
        file.local_path = "./test1.tmp"


@python_app
def local_path_of(f: File) -> str | None:
    return f.local_path


def test_a_parsl_style_provider_sets_the_execution_side_path_only(tmp_path: Path) -> None:
    with kernel(tmp_path / "run", [SP2()]):
        f = File("sp2://test")
        assert local_path_of(f).result(timeout=TIMEOUT) == "./test1.tmp"
        assert f.local_path is None
        gate = threading.Event()

        @python_app
        def wait_and_create(outputs: list[File] = ()) -> None:  # type: ignore[assignment]
            gate.wait(TIMEOUT)

        made = wait_and_create(outputs=[f])
        seen = local_path_of(made.outputs[0])
        assert not seen.done()
        gate.set()
        assert seen.result(timeout=TIMEOUT) == "./test1.tmp" and made.done()


class NoOpTesting(Staging):
    """Like Parsl's NoOpTestingFileStaging: launches (empty) staging apps through the
    public python_app API, with _parsl_staging_inhibit and parent_fut."""

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "file"

    can_stage_out = can_stage_in

    def stage_in(self, dm: Any, executor: str, file: File, parent_fut: Any) -> Any:
        app = python_app(executors=[executor], data_flow_kernel=dm.dfk)(stage_in_noop)
        return app(outputs=[file], _parsl_staging_inhibit=True, parent_fut=parent_fut)._outputs[0]

    def stage_out(self, dm: Any, executor: str, file: File, app_fu: Future[Any]) -> Any:
        app = python_app(executors=[executor], data_flow_kernel=dm.dfk)(stage_out_noop)
        return app(app_fu, inputs=[file], _parsl_staging_inhibit=True)


def stage_in_noop(parent_fut: Any = None, outputs: Any = (),
                  _parsl_staging_inhibit: bool = True) -> None:
    return None


def stage_out_noop(app_fu: Any, inputs: Any = (), _parsl_staging_inhibit: bool = True) -> None:
    return None


def test_parsl_style_staging_apps_run_in_staging_states(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("x")
    with kernel(tmp_path / "run", [NoOpTesting()]) as dfk:
        seen: list[Any] = []
        dfk.subscribe(seen.append)
        out = write(b"y", inputs=[File(str(src))], outputs=[File(str(tmp_path / "o"))])
        assert out.outputs[0].result(timeout=TIMEOUT).filepath == str(tmp_path / "o")
        dfk.wait_for_current_tasks(timeout=TIMEOUT)
    states = {e.new for e in seen}
    assert {States.staging_in, States.staging_out} <= states
    assert dfk.task_count == 3


# -- sandboxes on threads: never chdir, bash apps get the sandbox as their cwd ---------------
@bash_app
def scratch(inputs: list[File] = (), outputs: list[File] = ()) -> str:  # type: ignore[assignment]
    return f"pwd > where.txt && cat {inputs[0]} > {outputs[0]}"


def test_thread_sandbox_runs_bash_in_it_and_removes_it(http: Site, ftp: Site,
                                                       tmp_path: Path) -> None:
    url = http.put("in.txt", b"hello")
    out_url = f"{ftp.url}/o.txt"
    work = tmp_path / "work"
    cwd = os.getcwd()
    with kernel(tmp_path / "run", [HTTPInTaskStaging(cache=False), FTPInTaskStaging()],
                working_dir=str(work), sandbox=True):
        fut = scratch(inputs=[File(url)], outputs=[File(out_url)])
        fut.outputs[0].result(timeout=TIMEOUT)
    assert os.getcwd() == cwd
    assert (ftp.root / "o.txt").read_bytes() == b"hello"
    assert list((work / "sandbox").iterdir()) == []  # removed on success


def test_a_retried_task_stages_again_into_a_fresh_sandbox(http: Site, tmp_path: Path) -> None:
    url = http.put("in.txt", b"again")
    tries: list[str] = []

    @python_app
    def flaky(inputs: list[File] = ()) -> bytes:  # type: ignore[assignment]
        tries.append(inputs[0].filepath)
        if len(tries) == 1:
            raise OSError("first try fails")
        return Path(inputs[0]).read_bytes()

    ex = ThreadPoolExecutor(storage_access=[HTTPInTaskStaging(cache=False)], sandbox=True,
                            working_dir=str(tmp_path / "w"))
    plait.clear()
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none",
                           retries=1)):
        assert flaky(inputs=[File(url)]).result(timeout=TIMEOUT) == b"again"
    assert len(tries) == 2 and os.path.dirname(tries[0]) != os.path.dirname(tries[1])
    kept = list((tmp_path / "w" / "sandbox").iterdir())
    assert [str(k) for k in kept] == [os.path.dirname(tries[0])]  # the failed try's


@python_app(cache=True)
def measure(inputs: list[File] = ()) -> int:  # type: ignore[assignment]
    from pathlib import Path

    return len(Path(inputs[0]).read_bytes())


def test_memoized_staged_task_is_a_hit_the_second_time(http: Site, tmp_path: Path) -> None:
    url = http.put("in.txt", b"memo")
    with kernel(tmp_path / "run", [HTTPInTaskStaging(cache=False)],
                working_dir=str(tmp_path / "work")):
        first = measure(inputs=[File(url)])
        assert first.result(timeout=TIMEOUT) == 4
        again = measure(inputs=[File(url)])
        assert again.result(timeout=TIMEOUT) == 4
    assert not first.task_record.from_memo and again.task_record.from_memo


@pytest.mark.parametrize("where,label", [("pilot", "threads"),
                                         ("submitter", "_parsl_internal")])
def test_separate_staging_runs_where_asked(http: Site, tmp_path: Path, where: str,
                                           label: str, caplog: pytest.LogCaptureFixture
                                           ) -> None:
    url = http.put("in.bin", b"where")
    caplog.set_level(logging.INFO, "plait.data")
    ex = ThreadPoolExecutor(storage_access=[HTTPSeparateTaskStaging(where, cache=False)],
                            working_dir=str(tmp_path / "work"))
    plait.clear()
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none",
                           garbage_collect=False)) as dfk:
        assert read(File(url)).result(timeout=TIMEOUT) == b"where"
        staging = [t for t in dfk.tasks.values() if t.func_name == "stage_in_http"]
    assert [t.executor for t in staging] == [label]
    place = "on executor threads" if where == "pilot" else "on the submitting machine"
    assert f"staging in {url} for executor threads: in a staging task {place}, from " \
        f"{urlsplit(url).netloc}" in caplog.text  # the choice is logged, with the route


def test_in_task_staging_logs_where_it_runs(http: Site, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    url = http.put("in.bin", b"logged")
    caplog.set_level(logging.INFO, "plait.data")
    with kernel(tmp_path / "run", [HTTPInTaskStaging(cache=False)],
                working_dir=str(tmp_path / "work")):
        assert read(File(url)).result(timeout=TIMEOUT) == b"logged"
    assert f"staging in {url} for executor threads: on the worker, in the task" in caplog.text


def test_a_failed_staging_task_is_retried_by_the_kernel(http: Site, http_base: str,
                                                        tmp_path: Path) -> None:
    http.put("in.bin", b"second time")
    url = f"{http_base}/flaky/1/{http.key}/{http.key}/in.bin"
    ex = ThreadPoolExecutor(storage_access=[HTTPSeparateTaskStaging(cache=False, attempts=1)],
                            working_dir=str(tmp_path / "w"))
    plait.clear()
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none",
                           retries=1)) as dfk:
        seen: list[Any] = []
        dfk.subscribe(seen.append)
        assert read(File(url)).result(timeout=TIMEOUT) == b"second time"
    staging = [(e.old, e.new) for e in seen if e.func_name == "stage_in_http"]
    assert (States.staging_in, States.fail_retryable) in staging
    assert staging[-1] == (States.staging_in, States.exec_done)


@bash_app
def say(word: str, stdout: Any = None) -> str:
    return f"echo {word}"


def test_a_file_as_stdout_is_staged_out(ftp: Site, tmp_path: Path) -> None:
    with kernel(tmp_path / "run", [FTPInTaskStaging(cache=False)],
                working_dir=str(tmp_path / "w"), sandbox=True):
        fut = say("hello", stdout=File(f"{ftp.url}/logs/say.out"))
        assert fut.stdout.result(timeout=TIMEOUT).url.endswith("/logs/say.out")
    assert (ftp.root / "logs" / "say.out").read_text() == "hello\n"


STORE = {"/greeting": b"hello from a user's protocol"}


class MemoryStaging(TransferStaging):
    """A user's provider for mem:// URLs: only the protocol is written here; placement,
    retries and the cache come from TransferStaging."""

    schemes = ("mem",)

    def fetch(self, file: File, part: str, state: dict[str, Any]) -> dict[str, Any]:
        with open(part, "wb") as f:
            f.write(STORE[file.path])
        return {"size": len(STORE[file.path])}

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        return meta["size"] == len(STORE[file.path])

    def push(self, src: str, file: File) -> None:
        with open(src, "rb") as f:
            STORE[file.path] = f.read()


@python_app
def shout(inputs: list[File] = (), outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    from pathlib import Path

    Path(outputs[0]).write_bytes(Path(inputs[0]).read_bytes().upper())


def test_a_transfer_staging_subclass_of_ones_own(tmp_path: Path) -> None:
    provider = MemoryStaging(cache_dir=str(tmp_path / "cache"))
    with kernel(tmp_path / "run", [provider], working_dir=str(tmp_path / "w")):
        out = shout(inputs=[File("mem://store/greeting")], outputs=[File("mem://store/loud")])
        out.outputs[0].result(timeout=TIMEOUT)
    assert STORE["/loud"] == b"HELLO FROM A USER'S PROTOCOL"
    assert list((tmp_path / "cache").rglob("*.data"))  # cached like a bundled provider's


def test_two_urls_with_one_file_name_do_not_share_a_path(http: Site, tmp_path: Path) -> None:
    first, second = http.put("a/data.csv", b"first"), http.put("b/data.csv", b"second")
    with kernel(tmp_path / "run", [HTTPInTaskStaging(cache=False)],
                working_dir=str(tmp_path / "w")):
        got = [read(File(u)) for u in (first, second, first)]
        assert [f.result(timeout=TIMEOUT) for f in got] == [b"first", b"second", b"first"]
    assert (tmp_path / "w" / "data.csv").read_bytes() == b"first"
    assert [p.read_bytes() for p in (tmp_path / "w").glob("*/data.csv")] == [b"second"]


def test_a_data_future_whose_file_is_filled_in_late(tmp_path: Path) -> None:
    """A producer may complete with a File it re-targeted meanwhile (CWL outputs: the path
    is known only at the end); a consumer submitted before that sees the final path."""
    from concurrent.futures import Future

    from plait import DataFuture

    real = tmp_path / "final.txt"
    real.write_text("filled in")
    placeholder = File("<pending>/out")
    producer: Future[Any] = Future()
    with kernel(tmp_path / "run", None):
        consumer = read(DataFuture(producer, placeholder, 0))
        File.__init__(placeholder, str(real))  # what the producer does when it knows
        producer.set_result(None)
        assert consumer.result(timeout=TIMEOUT) == b"filled in"
