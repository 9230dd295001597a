"""Python apps: decorators, futures, arguments, results and errors on the thread pool."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest

import plait
from plait import File, bash_app, join_app, python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.errors import ConfigurationError, NoDataFlowKernelError


@python_app
def add(a: int, b: int = 10) -> int:
    return a + b


@python_app()
def fail(msg: str) -> None:
    raise ValueError(msg)


@python_app(cache=False, executors="all", ignore_for_cache=["x"])
def echo_kwargs(**kwargs: Any) -> dict[str, Any]:
    return kwargs


def test_app_returns_future_at_once(dfk: DataFlowKernel) -> None:
    gate = threading.Event()

    @python_app
    def wait_gate() -> str:
        assert gate.wait(10)
        return "opened"

    fut = wait_gate()
    assert isinstance(fut, Future) and not fut.done()
    assert fut.task_status() in ("pending", "launched")
    gate.set()
    assert fut.result(timeout=10) == "opened"
    assert fut.task_status() == "exec_done"


def test_decorator_forms_and_defaults(dfk: DataFlowKernel) -> None:
    assert add(1).result(timeout=10) == 11
    assert add(1, b=2).result(timeout=10) == 3
    assert echo_kwargs(x=1, y=2).result(timeout=10) == {"x": 1, "y": 2}
    assert add.__name__ == "add"


def test_unknown_decorator_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        python_app(walltime=1)  # type: ignore[call-overload]


def test_bad_executors_option_names_the_field() -> None:
    with pytest.raises(ConfigurationError, match="executors"):
        python_app(executors="threads")(lambda: 1)


def test_user_exception_comes_back_unchanged(dfk: DataFlowKernel) -> None:
    fut = fail("boom")
    with pytest.raises(ValueError, match="boom"):
        fut.result(timeout=10)
    assert fut.task_status() == "failed"
    assert fut.task_record.fail_history == ["ValueError('boom')"]


def test_ids_count_up_per_kernel(dfk: DataFlowKernel) -> None:
    ids = [add(i).tid for i in range(5)]
    assert ids == list(range(ids[0], ids[0] + 5))


def test_calling_an_app_without_a_kernel_says_what_to_do() -> None:
    plait.clear()
    with pytest.raises(NoDataFlowKernelError, match=r"plait.load\(config\)"):
        add(1)


def test_futures_as_arguments_become_dependencies(dfk: DataFlowKernel) -> None:
    a, b = add(1, 2), add(3, 4)
    assert add(a, b).result(timeout=10) == 10
    assert add(a, b=b).result(timeout=10) == 10

    @python_app
    def total(inputs: list[int] = ()) -> int:  # type: ignore[assignment]
        return sum(inputs)

    assert total(inputs=[a, b, 5]).result(timeout=10) == 15


def test_plain_future_made_by_hand_is_a_dependency(dfk: DataFlowKernel) -> None:
    by_hand: Future[int] = Future()
    fut = add(by_hand, 1)
    assert not fut.done()
    by_hand.set_result(41)
    assert fut.result(timeout=10) == 42


def test_signature_default_inputs_create_dependencies(dfk: DataFlowKernel) -> None:
    first = add(1, 1)

    @python_app
    def use_default(inputs: list[Any] = [first]) -> int:  # noqa: B006 - Parsl's idiom
        return inputs[0] * 10

    assert use_default().result(timeout=10) == 20


def test_special_kwargs_not_declared_are_not_passed(dfk: DataFlowKernel) -> None:
    @python_app
    def plain(x: int) -> int:
        return x

    assert plain(3, stdout="ignored.txt", inputs=[add(1)]).result(timeout=10) == 3


def test_outputs_give_data_futures(dfk: DataFlowKernel, tmp_path: Any) -> None:
    target = File(str(tmp_path / "out.txt"))

    @python_app
    def write(outputs: list[File] = ()) -> str:  # type: ignore[assignment]
        with open(outputs[0], "w") as f:
            f.write("data")
        return "written"

    fut = write(outputs=[target])
    assert len(fut.outputs) == 1
    data = fut.outputs[0]
    assert data.tid == fut.tid and data.filepath == str(tmp_path / "out.txt")
    assert data.result(timeout=10) is target

    @python_app
    def read(inputs: list[File] = ()) -> str:  # type: ignore[assignment]
        with open(inputs[0]) as f:
            return f.read()

    assert read(inputs=[data]).result(timeout=10) == "data"


def test_lifting_getitem_and_getattr(dfk: DataFlowKernel) -> None:
    @python_app
    def make() -> dict[str, Any]:
        return {"k": [1, 2, 3]}

    fut = make()
    assert fut["k"][1].result(timeout=10) == 2
    with pytest.raises(KeyError):
        fut["missing"].result(timeout=10)

    @python_app
    def text() -> str:
        return "abc"

    assert text().upper.result(timeout=10)() == "ABC"
    with pytest.raises(AttributeError):
        fut._private  # noqa: B018


def test_executors_option_directs_tasks(run_dir: str) -> None:
    cfg = plait.Config(executors=[plait.ThreadPoolExecutor(label="a", max_threads=1),
                                  plait.ThreadPoolExecutor(label="b", max_threads=1)],
                       run_dir=run_dir)

    @python_app(executors=["b"])
    def where() -> str:
        return threading.current_thread().name

    @python_app(executors=["nope"])
    def lost() -> None:
        return None

    with plait.load(cfg):
        assert "-b_" in where().result(timeout=10)
        with pytest.raises(ConfigurationError, match=r"executor 'nope'.*'a', 'b'"):
            lost().result(timeout=10)


def test_bash_and_join_decorators_with_and_without_parentheses() -> None:
    for deco in (bash_app, join_app):
        assert deco(lambda: "x").__name__ == "<lambda>"
        assert deco()(lambda: "x").__name__ == "<lambda>"
