"""Bash apps: command lines, redirected output, exit codes, outputs, walltime."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from plait import AUTO_LOGNAME, File, bash_app
from plait.dataflow.dflow import DataFlowKernel
from plait.errors import (
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
)


@bash_app
def run(cmd: str, stdout: object = None, stderr: object = None) -> str:
    return cmd


def test_success_is_exit_code_zero_and_stdout_is_redirected(
    dfk: DataFlowKernel, tmp_path: Path,
) -> None:
    out = tmp_path / "sub" / "out.txt"
    assert run("echo hello; echo oops >&2", stdout=str(out),
               stderr=str(tmp_path / "err.txt")).result(timeout=10) == 0
    assert out.read_text() == "hello\n"
    assert (tmp_path / "err.txt").read_text() == "oops\n"


def test_stdout_appends_by_default_and_tuple_sets_mode(
    dfk: DataFlowKernel, tmp_path: Path,
) -> None:
    out = str(tmp_path / "out.txt")
    run("echo one", stdout=out).result(timeout=10)
    run("echo two", stdout=out).result(timeout=10)
    assert Path(out).read_text() == "one\ntwo\n"
    run("echo three", stdout=(out, "w")).result(timeout=10)
    assert Path(out).read_text() == "three\n"


def test_nonzero_exit_names_app_code_and_files(dfk: DataFlowKernel, tmp_path: Path) -> None:
    err = str(tmp_path / "err.txt")
    with pytest.raises(BashExitFailure) as info:
        run("exit 3", stderr=err).result(timeout=10)
    assert info.value.exitcode == 3
    text = str(info.value)
    assert "bash_app run failed with unix exit code 3" in text and err in text


def test_command_not_found_gets_a_hint(dfk: DataFlowKernel) -> None:
    with pytest.raises(BashExitFailure, match=r"127.*command not found") as info:
        run("no-such-command-plait").result(timeout=10)
    assert "pass stdout=/stderr=" in str(info.value)


def test_missing_outputs(dfk: DataFlowKernel, tmp_path: Path) -> None:
    @bash_app
    def make(outputs: list[File] = ()) -> str:  # type: ignore[assignment]
        return f"touch {outputs[0]}"

    made, missing = File(str(tmp_path / "a")), File(str(tmp_path / "b"))
    with pytest.raises(MissingOutputs, match=str(tmp_path / "b")) as info:
        make(outputs=[made, missing]).result(timeout=10)
    assert info.value.outputs == [missing]


def test_non_string_return_is_a_clear_error(dfk: DataFlowKernel) -> None:
    @bash_app
    def broken() -> None:
        return None

    with pytest.raises(BashAppNoReturn, match=r"must return the command line.*NoneType"):
        broken().result(timeout=10)


def test_bad_stream_spec(dfk: DataFlowKernel) -> None:
    with pytest.raises(BadStdStreamFile, match="stdout"):
        run("true", stdout=["a", "b"]).result(timeout=10)
    with pytest.raises(BadStdStreamFile, match="could not be opened"):
        run("true", stdout="/proc/no/such/dir/x").result(timeout=10)


def test_walltime_kills_the_command(dfk: DataFlowKernel, tmp_path: Path) -> None:
    @bash_app
    def slow(walltime: float = 0.5) -> str:
        return f"sleep 30; touch {tmp_path}/finished"

    start = time.monotonic()
    with pytest.raises(AppTimeout, match="exceeded walltime"):
        slow(walltime=0.5).result(timeout=20)
    assert time.monotonic() - start < 10
    assert not (tmp_path / "finished").exists()


def test_format_with_defaults_and_auto_logname(dfk: DataFlowKernel) -> None:
    @bash_app
    def greet(name: str = "world", stdout: object = AUTO_LOGNAME) -> str:
        return f"echo hello {name}"

    fut = greet()
    assert fut.result(timeout=10) == 0
    path = fut.stdout
    assert isinstance(path, str) and path.startswith(os.path.join(dfk.run_dir, "task_logs"))
    assert Path(path).read_text() == "hello world\n"
