"""File: paths and file:// URLs, os.fspath, str, pickling; errors for unusable specs."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from plait import File, bash_app, python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.errors import AppBadFormatting, InvalidResourceSpecification


def test_local_path_and_file_url() -> None:
    plain = File("data/in.txt")
    assert (plain.scheme, plain.filepath, plain.filename) == ("file", "data/in.txt", "in.txt")
    url = File("file:///tmp/x/in.txt")
    assert url.scheme == "file" and url.filepath == "/tmp/x/in.txt"
    assert os.fspath(url) == "/tmp/x/in.txt" and str(url) == "/tmp/x/in.txt"
    assert f"cat {url}" == "cat /tmp/x/in.txt"
    assert File(Path("/a/b")).url == "/a/b"


def test_remote_file_needs_staging_before_its_path_is_used() -> None:
    remote = File("https://example.org/data.csv")
    assert remote.scheme == "https" and remote.filename == "data.csv"
    with pytest.raises(ValueError, match="must be staged in"):
        remote.filepath  # noqa: B018


def test_cleancopy_equality_and_pickle() -> None:
    f = File("/tmp/a")
    f.local_path = "/scratch/a"
    copy = f.cleancopy()
    assert copy.local_path is None and copy.url == f.url
    assert pickle.loads(pickle.dumps(f)) == f
    with pytest.raises(TypeError, match="path or URL"):
        File(3)  # type: ignore[arg-type]


def test_stdout_as_file(dfk: DataFlowKernel, tmp_path: Path) -> None:
    @bash_app
    def hello(stdout: object = None) -> str:
        return "echo hello"

    target = File(str(tmp_path / "o.txt"))
    assert hello(stdout=target).result(timeout=10) == 0
    assert (tmp_path / "o.txt").read_text() == "hello\n"


def test_bad_formatting_in_a_bash_app(dfk: DataFlowKernel) -> None:
    @bash_app
    def bad(items: list[str]) -> str:
        return f"echo {items[3]}"

    with pytest.raises(AppBadFormatting, match="bad could not format its command line"):
        bad(["a"]).result(timeout=10)


def test_threads_refuse_resource_specifications(dfk: DataFlowKernel) -> None:
    @python_app
    def f(parsl_resource_specification: dict[str, int] = {}) -> int:  # noqa: B006
        return 1

    with pytest.raises(InvalidResourceSpecification, match=r"cores.*HighThroughputExecutor"):
        f(parsl_resource_specification={"cores": 2}).result(timeout=10)
