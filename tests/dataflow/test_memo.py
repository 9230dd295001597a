"""Memoization through the kernel: hits, misses, what is hashed, failures, both config forms."""

from __future__ import annotations

import ast
import collections
import logging
import textwrap
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from kernels import kernel
from plait import AUTO_LOGNAME, bash_app, join_app, python_app
from plait.dataflow.memoization import BasicMemoizer
from plait.dataflow.states import States

# an unexpected checkpoint warning is a failure (the tests that expect one use pytest.warns)
pytestmark = pytest.mark.filterwarnings("error::plait.dataflow.memoization.CheckpointWarning")

RUNS: collections.Counter[str] = collections.Counter()
_RUNS_LOCK = threading.Lock()


def ran(name: str) -> None:
    with _RUNS_LOCK:
        RUNS[name] += 1


@pytest.fixture(autouse=True)
def _reset_counts() -> None:
    RUNS.clear()


@python_app(cache=True)
def square(x: Any, label: str = "") -> Any:
    ran("square")
    return x * x


@python_app(cache=True, ignore_for_cache=["note"])
def tagged(x: int, note: str = "") -> str:
    ran("tagged")
    return f"{x}:{note}"


@python_app
def uncached(x: int) -> int:
    ran("uncached")
    return x


@python_app(cache=True)
def broken(x: int) -> int:
    ran("broken")
    raise KeyError(x)


def test_second_identical_call_is_memo_done_without_running(run_dir: str) -> None:
    with kernel(run_dir) as dfk:
        first = square(4)
        assert first.result(timeout=30) == 16
        second = square(4)
        assert second.result(timeout=30) == 16
        other = square(5)
        assert other.result(timeout=30) == 25
        assert second.task_record.state is States.memo_done and second.task_record.from_memo
        assert first.task_record.state is States.exec_done and not first.task_record.from_memo
        assert first.task_record.hashsum == second.task_record.hashsum
        assert other.task_record.hashsum != first.task_record.hashsum
        assert dfk.task_state_counts[States.memo_done] == 1
    memo = dfk.memoizer
    assert isinstance(memo, BasicMemoizer) and first.task_record.hashsum is not None
    assert memo.hash_lookup(first.task_record.hashsum).result(timeout=1) == 16
    with pytest.raises(KeyError):
        memo.hash_lookup("0" * 32)
    assert RUNS["square"] == 2


def test_ignore_for_cache_excludes_the_named_kwarg(run_dir: str) -> None:
    with kernel(run_dir):
        assert tagged(1, note="a").result(timeout=30) == "1:a"
        hit = tagged(1, note="b")
        assert hit.result(timeout=30) == "1:a"  # the stored result, note ignored
        assert hit.task_record.state is States.memo_done
        assert tagged(2, note="a").result(timeout=30) == "2:a"
    assert RUNS["tagged"] == 2


def test_cache_false_apps_never_hash(run_dir: str) -> None:
    with kernel(run_dir):
        futs = [uncached(1) for _ in range(2)]
        for f in futs:
            f.result(timeout=30)
            assert f.task_record.hashsum is None
    assert RUNS["uncached"] == 2


@pytest.mark.parametrize("options", [{"app_cache": False},
                                     {"memoizer": BasicMemoizer(memoize=False)}],
                         ids=["app_cache=False", "memoize=False"])
def test_memoization_can_be_turned_off_in_both_config_forms(run_dir: str,
                                                           options: dict[str, Any]) -> None:
    with kernel(run_dir, **options):
        for _ in range(2):
            fut = square(3)
            assert fut.result(timeout=30) == 9
            assert fut.task_record.state is States.exec_done
    assert RUNS["square"] == 2


def test_failure_is_memoized_within_the_run(run_dir: str) -> None:
    with kernel(run_dir):
        first = broken(1)
        with pytest.raises(KeyError):
            first.result(timeout=30)
        second = broken(1)
        with pytest.raises(KeyError):
            second.result(timeout=30)
        assert second.exception() is first.exception()  # Parsl: the very same exception
        assert second.task_record.from_memo
    assert RUNS["broken"] == 1


def test_unhashable_argument_fails_the_task_with_a_clear_error(run_dir: str) -> None:
    with kernel(run_dir, retries=1):
        fut = square(threading.Lock())
        with pytest.raises(ValueError) as info:
            fut.result(timeout=30)
        assert "square" in str(info.value) and "positional argument 0" in str(info.value)
        assert "id_for_memo.register" in str(info.value)
        assert fut.task_record.fail_count == 2  # through the retry path
    assert RUNS["square"] == 0


def test_dependent_results_are_hashed_as_values(run_dir: str) -> None:
    with kernel(run_dir):
        a = square(2)
        b = square(a)  # the future is replaced by 4 before hashing
        assert b.result(timeout=30) == 16
        c = square(square(2))
        assert c.result(timeout=30) == 16
        assert c.task_record.state is States.memo_done
    assert RUNS["square"] == 2


def test_editing_the_function_body_misses(run_dir: str) -> None:
    def make(body: str) -> Any:
        ns: dict[str, Any] = {"ran": ran, "__name__": "user_module"}
        exec(textwrap.dedent(f"def work(x):\n    ran('work')\n    {body}\n"), ns)
        return python_app(cache=True)(ns["work"])

    with kernel(run_dir):
        v1, v1_again, v2 = make("return x + 1"), make("return x + 1"), make("return x + 2")
        assert v1(1).result(timeout=30) == 2
        assert v1_again(1).result(timeout=30) == 2  # same code: a hit
        assert v2(1).result(timeout=30) == 3
    assert RUNS["work"] == 2


@bash_app(cache=True)
def echo_line(path: str, word: str, stdout: Any = None, stderr: Any = None) -> str:
    return f"echo {word} >> {path}"


def test_bash_app_hit_does_not_run_the_command(run_dir: str, tmp_path: Path) -> None:
    target = tmp_path / "lines.txt"
    with kernel(run_dir):
        for _ in range(3):
            fut = echo_line(str(target), "hello", stdout=AUTO_LOGNAME, stderr=AUTO_LOGNAME)
            assert fut.result(timeout=30) == 0
        assert fut.task_record.state is States.memo_done  # log names differ, yet a hit
        assert echo_line(str(target), "other").result(timeout=30) == 0
    assert target.read_text().split() == ["hello", "other"]


@join_app(cache=True)
def joined(x: int) -> Future[Any]:
    ran("joined")
    return square(x)


def test_join_app_hit_returns_the_joined_result(run_dir: str) -> None:
    with kernel(run_dir):
        assert joined(6).result(timeout=30) == 36
        again = joined(6)
        assert again.result(timeout=30) == 36
        assert again.task_record.state is States.memo_done
    assert RUNS["joined"] == 1 and RUNS["square"] == 1


class FixedMemoizer(BasicMemoizer):
    """Parsl's tests subclass BasicMemoizer and override check_memo: that must work."""

    def check_memo(self, task: Any) -> Future[Any] | None:
        task.hashsum = "fixed"
        fut: Future[Any] = Future()
        fut.set_result(-1)
        return fut


def test_subclass_overriding_check_memo(run_dir: str) -> None:
    with kernel(run_dir, memoizer=FixedMemoizer()):
        fut = square(7)
        assert fut.result(timeout=30) == -1
        assert fut.task_record.state is States.memo_done
    assert RUNS["square"] == 0


def test_a_miss_is_explained_in_the_debug_log(run_dir: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="plait.dataflow.memo"), kernel(run_dir):
        square(2, label="a").result(timeout=30)
        square(2, label="b").result(timeout=30)
    misses = [r.getMessage() for r in caplog.records if "not memoized yet" in r.getMessage()]
    assert len(misses) == 2
    first, second = (ast.literal_eval(m.partition(" from ")[2]) for m in misses)
    assert first["function"] == second["function"] and first["arg 0"] == second["arg 0"]
    assert first["label"] != second["label"]  # the part that changed


@python_app(cache=True)
def produce(word: str, outputs: Any = ()) -> str:
    ran("produce")
    Path(outputs[0]).write_text(word)
    return word


@python_app(cache=True)
def consume(inputs: Any = ()) -> str:
    ran("consume")
    return Path(inputs[0]).read_text().upper()


def test_files_in_inputs_and_outputs_are_hashed_by_path(run_dir: str, tmp_path: Path) -> None:
    from plait import File

    def pipeline(name: str) -> Any:
        made = produce("hi", outputs=[File(str(tmp_path / name))])
        return consume(inputs=[made.outputs[0]])  # a DataFuture, a File once resolved

    with kernel(run_dir, checkpoint_mode="task_exit"):
        assert pipeline("a.txt").result(timeout=30) == "HI"
    with kernel(run_dir, checkpoint_mode="task_exit"):
        again = pipeline("a.txt")
        assert again.result(timeout=30) == "HI"
        assert again.task_record.state is States.memo_done
        assert pipeline("b.txt").result(timeout=30) == "HI"  # another path: both run
    assert RUNS["produce"] == 2 and RUNS["consume"] == 2
    (tmp_path / "a.txt").unlink()  # a memoized result whose output file is gone
    with kernel(run_dir, checkpoint_mode="task_exit"):
        rerun = pipeline("a.txt")
        assert rerun.result(timeout=30) == "HI"
        assert rerun.task_record.state is States.memo_done  # consume's inputs are unchanged
    assert RUNS["produce"] == 3 and RUNS["consume"] == 2
    assert (tmp_path / "a.txt").read_text() == "hi"
