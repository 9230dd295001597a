"""CWL tools and workflows as plait apps: futures in, futures out, mixed with Python apps."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, File, HighThroughputExecutor, python_app
from plait.cwl import (
    CWLInputError,
    CWLStepFailed,
    CWLUnsupportedRequirement,
    CWLValidationError,
    load_tool,
    load_workflow,
)
from plait.dataflow.dflow import DataFlowKernel
from plait.providers import LocalProvider

DATA = Path(__file__).parent / "data"


@python_app
def write_lines(n: int, outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(outputs[0], "w") as f:
        f.writelines(f"line {i}\n" for i in range(n))


@python_app
def read_text(inputs: list[Any] = ()) -> str:  # type: ignore[assignment]
    with open(inputs[0]) as f:
        return f.read()


def test_tool_takes_a_datafuture_and_its_output_file_feeds_a_python_app(
        dfk: DataFlowKernel, tmp_path: Path) -> None:
    wc = load_tool(DATA / "wc.cwl")
    assert wc.inputs == {"infile": "File"} and wc.outputs == ["count", "report"]
    written = write_lines(7, outputs=[File(str(tmp_path / "in.txt"))])
    counted = wc(infile=written.outputs[0])
    result = counted.result(timeout=60)
    assert result["count"] == 7
    assert Path(result["report"]["path"]).parent.parent.name.startswith("wc-")
    report = wc.files(counted)["report"]
    assert read_text(inputs=[report]).result(timeout=60).strip() == "7"
    alias = Path(report.result(timeout=5).filepath)        # a path fixed at the call
    assert alias.name == "report" and alias.samefile(result["report"]["path"])


def test_cwl_output_feeds_another_cwl_call(dfk: DataFlowKernel) -> None:
    echo, wc = load_tool(DATA / "echo.cwl"), load_tool(DATA / "wc.cwl")
    first = echo(message="hello")
    from_file = wc(infile=echo.files(first)["out"])
    from_value = wc(infile=first["out"])      # the lifted CWL File object works too
    assert from_file.result(timeout=60)["count"] == from_value.result(timeout=60)["count"] == 1


def test_workflow_scatter_runs_each_job_as_a_task(dfk: DataFlowKernel) -> None:
    wf = load_workflow(DATA / "scatter-cat.cwl")
    launched: list[str] = []
    dfk.subscribe(lambda e: launched.append(e.func_name) if e.new.name == "launched" else None)
    result = wf(messages=["a", "b", "c", "d"]).result(timeout=60)
    assert Path(result["joined"]["path"]).read_text() == "a\nb\nc\nd\n"
    assert [Path(p["path"]).read_text() for p in result["parts"]] == ["a\n", "b\n", "c\n",
                                                                      "d\n"]
    assert launched.count("cwl_tool") == 5      # 4 scattered echo jobs + 1 cat
    assert launched.count("cwl_step") == 2      # one task per step


def test_cachedir_reuses_a_job_across_calls(dfk: DataFlowKernel, tmp_path: Path) -> None:
    echo = load_tool(DATA / "echo.cwl", cachedir=tmp_path / "cache")
    first = echo(message="again").result(timeout=60)
    second = echo(message="again").result(timeout=60)
    assert Path(first["out"]["path"]).read_text() == Path(second["out"]["path"]).read_text()
    assert first["out"]["path"] != second["out"]["path"]        # each call has its outputs
    assert len(list((tmp_path / "cache").glob("*.status"))) == 1  # one job ran


def test_missing_and_unknown_inputs_fail_at_the_call(dfk: DataFlowKernel) -> None:
    wc = load_tool(DATA / "wc.cwl")
    with pytest.raises(CWLInputError, match=r"input 'infile' \(type File\) is missing"):
        wc()
    with pytest.raises(CWLInputError, match=r"'nope' .*its inputs: infile"):
        wc(infile=File("x"), nope=1)


def test_invalid_document_error_has_file_line_and_column() -> None:
    with pytest.raises(CWLValidationError) as err:
        load_tool(DATA / "bad.cwl")
    assert "bad.cwl:6:5:" in str(err.value)
    assert pickle.loads(pickle.dumps(err.value)).detail == err.value.detail


def test_failed_tool_error_names_command_exit_code_and_streams(dfk: DataFlowKernel) -> None:
    with pytest.raises(CWLStepFailed) as err:
        load_tool(DATA / "fail.cwl")().result(timeout=60)
    failure = err.value
    assert failure.exitcode == 3 and failure.command[:2] == ["sh", "-c"]
    assert failure.stderr is not None and "something broke" in Path(failure.stderr).read_text()
    assert "exit code: 3" in str(failure)
    again = pickle.loads(pickle.dumps(failure))
    assert (again.step, again.exitcode, again.stderr) == (failure.step, 3, failure.stderr)


def test_first_failure_is_reported_and_jobs_not_started_are_cancelled(
        dfk: DataFlowKernel) -> None:
    wf = load_workflow(DATA / "scatter-maybe-fail.cwl")
    ended: list[str] = []
    dfk.subscribe(lambda e: ended.append(e.new.name) if e.func_name == "cwl_tool" and
                  e.new.name in ("exec_done", "failed", "cancelled") else None)
    with pytest.raises(CWLStepFailed, match="exit code: 5"):  # not a cancelled sibling
        wf(messages=["bad"] + ["ok"] * 11).result(timeout=120)
    assert ended.count("failed") == 1
    assert ended.count("cancelled") >= 1     # 4 threads: most of the 11 had not started


def test_docker_requirement_without_engine_fails_the_call(dfk: DataFlowKernel) -> None:
    with pytest.raises(CWLUnsupportedRequirement, match="no working container engine"):
        load_tool(DATA / "docker.cwl")().result(timeout=60)


@pytest.mark.timeout(180)
def test_workflow_on_the_pilot_executor(run_dir: str) -> None:
    config = Config(executors=[HighThroughputExecutor(
        max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))],
        run_dir=run_dir, strategy="none")
    with DataFlowKernel(config) as kernel:
        wf = load_workflow(DATA / "scatter-cat.cwl", data_flow_kernel=kernel)
        result = wf(messages=[f"m{i}" for i in range(8)]).result(timeout=120)
        sized = load_tool(DATA / "resources.cwl", data_flow_kernel=kernel)
        assert sized().result(timeout=120)["cores"] == "1"   # the pilot took the spec
        failing = load_tool(DATA / "fail.cwl", data_flow_kernel=kernel)
        with pytest.raises(CWLStepFailed, match="exit code: 3"):  # pickled back from a worker
            failing().result(timeout=120)
    assert Path(result["joined"]["path"]).read_text() == "".join(f"m{i}\n" for i in range(8))


def test_resource_requirement_becomes_a_resource_specification() -> None:
    from types import SimpleNamespace

    from plait.cwl._engine import Engine

    process = load_tool(DATA / "resources.cwl").process
    placed = SimpleNamespace(executors={"pilot": object()})        # places by resources
    threads = SimpleNamespace(executors={"threads": plait.ThreadPoolExecutor()})
    assert Engine._resources(SimpleNamespace(_cap=(2, 4096)), process) == {
        "cores": 1, "memory": 64}
    assert Engine._resources(SimpleNamespace(_cap=None), process) is None  # threads refuse
    from plait.cwl._engine import _resource_caps

    assert _resource_caps(placed) is not None and _resource_caps(threads) is None


def test_plait_import_does_not_load_cwl() -> None:
    import subprocess
    import sys

    code = ("import sys, plait, plait.errors; print([m for m in sys.modules "
            "if m.startswith(('cwltool', 'schema_salad', 'cwl_utils', 'plait.cwl._'))"
            " and m != 'plait.cwl._errors'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"
    assert plait.__version__


def test_no_nodejs_process_outlives_the_kernel(tmp_path: Path) -> None:
    """cwl-utils keeps a Node.js process per thread for expressions; the kernel's cleanup
    stops them, so a long-lived process (a notebook, this test session) keeps none."""
    import psutil

    def nodes() -> list[psutil.Process]:
        found = []
        for child in psutil.Process().children(recursive=True):
            try:
                if child.name() in ("node", "nodejs"):
                    found.append(child)
            except psutil.Error:  # gone between listing and reading
                pass
        return found

    (tmp_path / "in.txt").write_text("a\nb\nc\n")
    plait.clear()
    with plait.load(Config(run_dir=str(tmp_path / "runinfo"))):
        out = load_tool(DATA / "wc.cwl")(infile=File(str(tmp_path / "in.txt")))
        assert out.result(timeout=120)["count"] == 3
        assert nodes(), "the expression ran in a Node.js process"
    assert nodes() == []
