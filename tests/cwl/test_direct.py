"""Direct jobs (``plait.cwl._direct``): plain CommandLineTool jobs run by plait itself.

Each test builds a job the way the engine does and runs it as a task would; the outputs
are compared with cwltool's own runner on the same tool and inputs.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cwltool")

from plait.cwl._direct import JobDirs, direct_tool
from plait.cwl._direct_run import run_direct
from plait.cwl._errors import CWLStepFailed
from plait.cwl._jobs import JobSettings, run_tool_job
from plait.cwl._toolref import ToolRef

DATA = Path(__file__).parent / "data"


def load(path: Path) -> Any:
    from cwltool.context import LoadingContext
    from cwltool.load_tool import load_tool
    from cwltool.workflow import default_make_tool

    return load_tool(str(path), LoadingContext({"construct_tool_object": default_make_tool}))


def tool_file(tmp_path: Path, text: str, name: str = "tool.cwl") -> Path:
    path = tmp_path / name
    path.write_text("cwlVersion: v1.2\nclass: CommandLineTool\n" + text)
    return path


class Runs:
    """One run's context, settings and job directories (as the engine makes them)."""

    def __init__(self, tmp_path: Path) -> None:
        from cwltool.context import RuntimeContext

        self.context = RuntimeContext({"basedir": str(tmp_path), "use_container": False})
        self.context.tmp_outdir_prefix = str(tmp_path / "jobs" / "job-")
        self.context.tmpdir_prefix = str(tmp_path / "tmp" / "tmp-")
        self.logs = tmp_path / "logs"
        self.settings = JobSettings.from_runtime_context(self.context, str(self.logs))
        self.dirs = JobDirs(self.context.tmp_outdir_prefix, self.context.tmpdir_prefix)

    def direct(self, process: Any, job: dict[str, Any], name: str = "tool") -> dict[str, Any]:
        tool = direct_tool(process, self.context)
        assert tool is not None, "this tool's jobs should run directly"
        context = self.context.copy()
        context.name = name
        spec = tool.spec(job, context, self.dirs)
        assert spec is not None, "this job should run directly"
        return run_direct(ToolRef(process, name), job, self.settings, spec)

    def full(self, process: Any, job: dict[str, Any], name: str = "tool") -> dict[str, Any]:
        return run_tool_job(ToolRef(process, name), job, self.settings)


def without_location(outputs: dict[str, Any]) -> dict[str, Any]:
    return {k: v if not isinstance(v, dict) else {f: x for f, x in v.items() if f != "location"}
            for k, v in outputs.items()}


def test_outputs_are_what_cwltools_runner_reports(tmp_path: Path) -> None:
    process = load(tool_file(tmp_path, """
baseCommand: [sh, -c, 'echo "$0" > out.txt; mkdir -p sub; echo more > sub/b.dat', ]
inputs:
  message: {type: string, inputBinding: {position: 1}}
outputs:
  text: {type: File, outputBinding: {glob: out.txt}, format: "http://example.org/text"}
  nested: {type: File, outputBinding: {glob: sub/b.dat}}
  absent: {type: "File?", outputBinding: {glob: nothing.txt}}
"""))
    runs = Runs(tmp_path)
    direct = runs.direct(process, {"message": "hello"})
    full = runs.full(process, {"message": "hello"})
    assert without_location(direct) == without_location(full)
    assert direct["absent"] is None
    assert direct["text"]["format"] == "http://example.org/text"
    assert Path(direct["text"]["location"].removeprefix("file://")).read_text() == "hello\n"


def test_jobs_that_need_cwltools_runner_take_the_full_path(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    staged = load(tool_file(tmp_path, """
requirements:
  InitialWorkDirRequirement: {listing: [{entryname: a.txt, entry: "x"}]}
baseCommand: cat
inputs: []
outputs: []
""", "iwd.cwl"))
    assert direct_tool(staged, runs.context) is None
    assert direct_tool(load(DATA / "wc.cwl"), runs.context) is None  # stdin from a File
    cat = load(tool_file(tmp_path, """
baseCommand: cat
inputs:
  infile: {type: File, inputBinding: {position: 1}}
stdout: copy.txt
outputs:
  copy: stdout
""", "cat.cwl"))
    tool = direct_tool(cat, runs.context)
    assert tool is not None  # a File input is staged by cwltool's runner: that job is not
    some = tmp_path / "some.txt"
    some.write_text("a b c\n")
    job = {"infile": {"class": "File", "location": some.as_uri()}}
    assert tool.spec(job, runs.context.copy(), runs.dirs) is None
    runs.context.use_container = True  # an engine would run DockerRequirement's image
    docker = load(DATA / "docker.cwl")
    assert direct_tool(docker, runs.context) is None


def test_failure_names_command_exit_code_and_the_logs_it_wrote(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    with pytest.raises(CWLStepFailed) as failed:
        runs.direct(load(DATA / "fail.cwl"), {}, name="breaks")
    error = failed.value
    assert error.step == "breaks" and error.exitcode == 3
    assert error.command[:2] == ["sh", "-c"]
    assert error.stderr is not None and Path(error.stderr).read_text() == "something broke\n"
    assert error.stdout is not None and Path(error.stdout).read_text() == ""  # named: exists
    assert "something broke" in error.stderr_tail
    assert "exited with code 3" in str(error)


def test_a_quiet_job_leaves_no_log_file_and_a_chatty_one_keeps_its_stderr(
        tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    runs.direct(load(DATA / "echo.cwl"), {"message": "quiet"})
    assert not runs.logs.exists() or not list(runs.logs.iterdir())
    chatty = load(tool_file(tmp_path, """
baseCommand: [sh, -c, 'echo to-stdout; echo to-stderr >&2']
inputs: []
outputs: []
""", "chatty.cwl"))
    runs.direct(chatty, {}, name="chatty")
    kept = {p.suffix: p.read_text() for p in runs.logs.iterdir()}
    assert kept == {".stdout": "to-stdout\n", ".stderr": "to-stderr\n"}


def test_each_job_gets_an_empty_temporary_directory(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    litter = load(tool_file(tmp_path, """
baseCommand: [sh, -c, 'ls -A "$TMPDIR" | wc -l > seen.txt; touch "$TMPDIR/litter"']
inputs: []
outputs:
  seen: {type: File, outputBinding: {glob: seen.txt, loadContents: true}}
""", "litter.cwl"))
    seen = [runs.direct(litter, {})["seen"]["contents"].strip() for _ in range(3)]
    assert seen == ["0", "0", "0"]


def test_cwl_output_json_and_expressions_are_collected_by_cwltool(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    custom = load(tool_file(tmp_path, """
baseCommand: [sh, -c, 'echo "{\\"n\\": 7}" > cwl.output.json']
inputs: []
outputs:
  n: int
""", "custom.cwl"))
    assert runs.direct(custom, {}) == {"n": 7}
    named = load(tool_file(tmp_path, """
baseCommand: [sh, -c, 'echo hi > "$0.txt"']
inputs:
  stem: {type: string, inputBinding: {position: 1}}
outputs:
  out: {type: File, outputBinding: {glob: $(inputs.stem).txt}}
""", "named.cwl"))
    direct = runs.direct(named, {"stem": "chosen"})
    assert without_location(direct) == without_location(runs.full(named, {"stem": "chosen"}))
    assert direct["out"]["basename"] == "chosen.txt"


def test_missing_output_is_reported_as_cwltool_words_it(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    missing = load(tool_file(tmp_path, """
baseCommand: "true"
inputs: []
outputs:
  out: {type: File, outputBinding: {glob: never.txt}}
""", "missing.cwl"))
    with pytest.raises(CWLStepFailed, match="Did not find output file with glob pattern"):
        runs.direct(missing, {})


def test_time_limit_stops_the_command(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    slow = load(tool_file(tmp_path, """
requirements:
  ToolTimeLimit: {timelimit: 1}
baseCommand: [sleep, "30"]
inputs: []
outputs: []
""", "slow.cwl"))
    started = time.monotonic()
    with pytest.raises(CWLStepFailed) as failed:
        runs.direct(slow, {})
    assert failed.value.exitcode == -signal.SIGTERM
    assert time.monotonic() - started < 20  # limit 1 s; generous for a loaded machine


def test_environment_is_cwltools(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    env = load(tool_file(tmp_path, """
requirements:
  EnvVarRequirement: {envDef: {GREETING: hello}}
baseCommand: [sh, -c, 'echo "$GREETING $HOME $TMPDIR $PATH" > env.txt']
inputs: []
outputs:
  env: {type: File, outputBinding: {glob: env.txt, loadContents: true}}
""", "env.cwl"))
    greeting, home, tmpdir, path = runs.direct(env, {})["env"]["contents"].split()
    assert greeting == "hello" and path == os.environ["PATH"]
    assert home.startswith(str(tmp_path / "jobs")) and tmpdir.startswith(str(tmp_path / "tmp"))


def test_templated_command_lines_are_cwltools(tmp_path: Path) -> None:
    # A tool without expressions is built once per shape and filled in per job: every
    # job's command line must be the one cwltool builds for that job itself.
    process = load(tool_file(tmp_path, """
baseCommand: [printf, "%s|"]
arguments: [{valueFrom: fixed, position: 0}]
inputs:
  word: {type: string, inputBinding: {position: 1}}
  glued: {type: "string?", inputBinding: {position: 2, prefix: "--name=", separate: false}}
  count: {type: int, default: 3, inputBinding: {position: 3, prefix: -n}}
  flag: {type: boolean, default: false, inputBinding: {position: 4, prefix: --flag}}
stdout: out.txt
outputs:
  out: stdout
"""))
    runs = Runs(tmp_path)
    tool = direct_tool(process, runs.context)
    assert tool is not None
    context = runs.context.copy()
    context.name = "tool"
    jobs: list[dict[str, Any]] = [
        {"word": "plain"}, {"word": "two words", "glued": "x y"},
        {"word": "it's $HOME; `rm`", "count": 7, "flag": True},
        {"word": "", "glued": None, "count": -1}, {"word": "plain", "flag": True}] * 2
    for job in jobs:
        templated = tool.spec(job, context, runs.dirs)
        built = tool._build(job, context, "tool", "/out", "/tmp")
        assert templated is not None and built is not None
        assert templated.command == built.command, job
    assert len(tool._templates) == 5  # one per shape, reused by the repeats
    assert all(t is not None for t in tool._templates.values())
    expr = load(tool_file(tmp_path, """
requirements: {InlineJavascriptRequirement: {}}
baseCommand: echo
inputs:
  word: {type: string, inputBinding: {position: 1, valueFrom: $(self.toUpperCase())}}
outputs: []
""", "expr.cwl"))
    upper = direct_tool(expr, runs.context)
    assert upper is not None
    spec = upper.spec({"word": "loud"}, context, runs.dirs)
    assert spec is not None and spec.command == ["echo", "LOUD"] and not upper._templates
