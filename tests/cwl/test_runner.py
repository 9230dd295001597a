"""``plait cwl run`` / ``plait-cwl-runner``: cwl-runner arguments, output JSON, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
RUNNER = Path(sys.executable).parent / "plait-cwl-runner"


def run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def plait_cwl_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "plait", "cwl", "run", "--quiet", *args], cwd)


def test_scatter_workflow_prints_outputs_and_moves_files_to_outdir(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"messages": ["one", "two", "three"]}))
    out = plait_cwl_run("--outdir", str(tmp_path / "out"), str(DATA / "scatter-cat.cwl"),
                        str(job), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    parts = [Path(p["path"]) for p in result["parts"]]
    assert [p.read_text() for p in parts] == ["one\n", "two\n", "three\n"]
    assert {p.parent for p in parts} == {tmp_path / "out"}
    joined = Path(result["joined"]["path"])
    assert joined.parent == tmp_path / "out"
    assert joined.read_text() == "one\ntwo\nthree\n"


def test_cwl_runner_script_takes_cwltool_arguments(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    out = run([str(RUNNER), "--quiet", "--outdir", str(tmp_path / "o"),
               "--tmpdir-prefix", str(work / "tmp-"), "--tmp-outdir-prefix",
               str(work / "out-"), str(DATA / "echo.cwl"), "--message", "hello"], tmp_path)
    assert out.returncode == 0, out.stderr
    path = Path(json.loads(out.stdout)["out"]["path"])
    assert path.read_text() == "hello\n"
    assert not list(work.iterdir()), "a successful run removes its job and run directories"
    assert run([str(RUNNER), "--version"], tmp_path).stdout.startswith("plait-cwl-runner")


def test_cachedir_reuses_jobs_across_runs(tmp_path: Path) -> None:
    args = ["--cachedir", str(tmp_path / "cache"), str(DATA / "echo.cwl"), "--message", "hi"]
    first = run([str(RUNNER), "--outdir", str(tmp_path / "a"), *args], tmp_path)
    second = run([str(RUNNER), "--outdir", str(tmp_path / "b"), *args], tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "Using cached output" not in first.stderr and "Using cached output" in second.stderr
    assert (tmp_path / "b" / "out.txt").read_text() == "hi\n"


def test_failed_step_names_step_command_exit_code_and_stderr(tmp_path: Path) -> None:
    out = plait_cwl_run("--tmp-outdir-prefix", str(tmp_path / "out-"),
                        str(DATA / "fail-wf.cwl"), cwd=tmp_path)
    assert out.returncode == 1
    err = out.stderr
    assert "step breaks failed" in err
    assert "exit code: 3" in err
    assert "command: sh -c" in err
    assert "something broke" in err          # the tail of its stderr ...
    streams = dict(re.findall(r"^  (stdout|stderr): (\S+)$", err, re.MULTILINE))
    # ... and where the rest is: files that outlive the run (cwltool removes the jobs' dirs)
    assert Path(streams["stderr"]).read_text() == "something broke\n"
    assert Path(streams["stdout"]).is_file()
    assert err.count("something broke") == 2, err  # in the tail, not repeated by plait
    assert f"logs) is kept: {Path(streams['stderr']).parents[2]}" in err


def test_missing_input_names_the_input_and_its_type(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text("{}")
    out = plait_cwl_run("--tmp-outdir-prefix", str(tmp_path / "out-"),
                        str(DATA / "scatter-cat.cwl"), str(job), cwd=tmp_path)
    assert out.returncode == 1
    assert "input 'messages' (type string[]) is missing" in out.stderr
    assert not list(tmp_path.glob("plait-run-*")), "no job ran: no run directory is kept"


def test_invalid_document_reports_file_line_and_column(tmp_path: Path) -> None:
    out = plait_cwl_run(str(DATA / "bad.cwl"), cwd=tmp_path)
    assert out.returncode == 1
    assert "bad.cwl:6:5:" in out.stderr and "integer" in out.stderr


def test_docker_requirement_without_engine_exits_33_before_running(tmp_path: Path) -> None:
    out = plait_cwl_run(str(DATA / "docker.cwl"), cwd=tmp_path)
    assert out.returncode == 33, out.stderr
    assert "DockerRequirement (docker.io/debian:stable-slim)" in out.stderr
    assert "no working container engine" in out.stderr

def test_container_engine_is_asked_only_when_a_tool_could_use_one(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    asked = tmp_path / "asked"
    docker = bin_dir / "docker"  # a docker client whose daemon is not there
    docker.write_text(f"#!/bin/sh\necho \"$@\" >> {asked}\nexit 1\n")
    docker.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")

    def cwl_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "plait", "cwl", "run", "--quiet", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)

    plain = cwl_run("--outdir", str(tmp_path / "o"), str(DATA / "echo.cwl"), "--message", "hi")
    assert plain.returncode == 0, plain.stderr
    assert not asked.exists(), "no tool has a DockerRequirement: nothing to ask docker"
    wants = cwl_run(str(DATA / "docker.cwl"))
    assert wants.returncode == 33, wants.stderr
    assert asked.read_text() == "info\n"



def pilot_config(tmp_path: Path) -> Path:
    config = tmp_path / "pilot.py"
    config.write_text(
        "from plait import Config, HighThroughputExecutor\n"
        "from plait.providers import LocalProvider\n"
        "config = Config(executors=[HighThroughputExecutor(label='pilot', "
        "max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))], "
        f"run_dir={str(tmp_path / 'runinfo')!r}, strategy='none')\n")
    return config


@pytest.mark.timeout(180)
def test_config_runs_the_jobs_on_the_pilot_executor(tmp_path: Path) -> None:
    config = pilot_config(tmp_path)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"messages": [f"m{i}" for i in range(6)]}))
    out = plait_cwl_run("--config", str(config), "--outdir", str(tmp_path / "out"),
                        str(DATA / "scatter-cat.cwl"), str(job), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    joined = Path(json.loads(out.stdout)["joined"]["path"])
    assert joined.read_text() == "".join(f"m{i}\n" for i in range(6))
    logs = list((tmp_path / "runinfo").glob("*/pilot/**/*.log"))
    assert logs, "the pilot executor's logs are in the config's run_dir"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("args,status,message", [
    (["bad.cwl"], 1, "bad.cwl:6:5:"),
    (["--no-such-option", "echo.cwl"], 2, "unrecognized arguments: --no-such-option"),
])
def test_pilot_started_early_is_stopped_when_the_run_never_starts(
        tmp_path: Path, args: list[str], status: int, message: str) -> None:
    # --config starts the kernel (and the pilot's processes) before cwltool is imported and
    # while it loads the document; a run that never gets to its jobs (an invalid document,
    # a bad option the parser rejects later) must still stop all of them.
    import psutil

    args = [str(DATA / a) if a.endswith(".cwl") else a for a in args]
    out = plait_cwl_run("--config", str(pilot_config(tmp_path)), *args, cwd=tmp_path)
    assert out.returncode == status and message in out.stderr, out.stderr
    run_dir = str(tmp_path / "runinfo")
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(run_dir in part for part in proc.info["cmdline"] or ()):
            left.append(proc)
    # stopped by the runner before it exits (left alone, the manager would linger until its
    # heartbeat to the gone interchange timed out, 8 s)
    _, alive = psutil.wait_procs(left, timeout=3)
    assert not alive, f"pilot processes left behind: {alive}"


@pytest.mark.parametrize("argv,path", [
    (["--config", "c.py", "--outdir", "o", "w.cwl", "j.yml"], "c.py"),
    (["--config=c.py", "w.cwl"], "c.py"),
    (["--config", "c.py", "--validate", "w.cwl"], None),  # no jobs: no pilot
    (["--config", "c.py", "--print-dot", "w.cwl"], None),
    (["--config", "c.py", "--help"], None),
    (["w.cwl", "--", "--config", "c.py"], None),  # the tool's own inputs
    (["w.cwl", "j.yml"], None),
])
def test_early_config_is_read_only_for_a_run_of_jobs(argv: list[str], path: str | None) -> None:
    from plait.cwl._runner import _early_config_path

    assert _early_config_path(argv) == path


@pytest.mark.parametrize("content,message", [
    ("config = 3\n", "must define `config = plait.Config(...)`; it defines int"),
    ("import no_such_module\n", "failed: ModuleNotFoundError"),
])
def test_bad_config_file_is_named_before_anything_runs(tmp_path: Path, content: str,
                                                       message: str) -> None:
    config = tmp_path / "bad_config.py"
    config.write_text(content)
    out = plait_cwl_run("--config", str(config), str(DATA / "echo.cwl"), cwd=tmp_path)
    assert out.returncode == 1
    assert "bad_config.py" in out.stderr and message in out.stderr


def test_plait_cwl_without_subcommand_prints_usage(tmp_path: Path) -> None:
    out = run([sys.executable, "-m", "plait", "cwl"], tmp_path)
    assert out.returncode == 2
    assert "plait cwl run" in out.stdout
