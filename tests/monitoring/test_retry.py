"""``plait retry RUN --failed``: the script runs again; what succeeded comes from checkpoints,
the failed task runs with its edited code, and its dependents run after it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monitored import rows
from plait.cli._main import main

SCRIPT = textwrap.dedent("""
    import sys
    import plait
    from plait import Config, ThreadPoolExecutor, python_app
    from plait.monitoring import MonitoringHub

    @python_app(cache=True)
    def prepare(n):
        open(f"ran-prepare-{n}", "a").write("x")
        return n * 10

    @python_app(cache=True)
    def compute(x):
        BODY

    @python_app(cache=True)
    def report(value):
        open("ran-report", "a").write("x")
        return f"result {value}"

    config = Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir="runinfo",
                    checkpoint_mode="task_exit",
                    monitoring=MonitoringHub(logging_endpoint=sys.argv[1]))
    with plait.load(config):
        a, b = prepare(1), prepare(2)
        final = report(compute(a))
        try:
            print(final.result(timeout=60), b.result(timeout=60))
        except Exception as exc:
            print("failed:", type(exc).__name__)
""")


def write_script(path: Path, body: str) -> None:
    path.write_text(SCRIPT.replace("BODY", body))


@pytest.mark.timeout(120)
def test_retry_reruns_the_failed_task_and_dependents_only(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    script, url = tmp_path / "flow.py", f"sqlite:///{tmp_path / 'mon.db'}"
    write_script(script, 'raise ValueError("bug in compute")')
    first = subprocess.run([sys.executable, str(script), url], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert "failed: DependencyError" in first.stdout, first.stderr
    write_script(script, "return x + 1")  # the fix, made after the failed run

    assert main(["retry", url, "--failed"]) == 0
    assert "1 failed, 1 blocked" in capsys.readouterr().err
    assert (tmp_path / "ran-prepare-1").read_text() == "x"  # not run again: checkpointed
    assert (tmp_path / "ran-prepare-2").read_text() == "x"
    assert (tmp_path / "ran-report").read_text() == "x"  # blocked before, ran now
    [(old,), (new,)] = rows(url, "SELECT run_id FROM workflow ORDER BY time_began")
    assert rows(url, "SELECT retry_of FROM plait_workflow WHERE run_id = :r", r=new) == [(old,)]
    states = dict(rows(url, "SELECT t.task_func_name || t.task_id, s.task_status_name FROM "
                       "task t JOIN status s ON s.run_id = t.run_id AND s.task_id = t.task_id "
                       "WHERE t.run_id = :r AND s.task_status_name IN ('exec_done', "
                       "'memo_done', 'failed', 'dep_fail')", r=new))
    assert states == {"prepare0": "memo_done", "prepare1": "memo_done",
                      "compute2": "exec_done", "report3": "exec_done"}


def test_retry_without_checkpoints_explains_what_to_do(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    script, url = tmp_path / "flow.py", f"sqlite:///{tmp_path / 'mon.db'}"
    script.write_text(SCRIPT.replace("BODY", 'raise ValueError("x")').replace(
        'checkpoint_mode="task_exit",', ""))
    subprocess.run([sys.executable, str(script), url], cwd=tmp_path, capture_output=True,
                   timeout=60, check=True)
    assert main(["retry", url, "--failed"]) == 1
    err = capsys.readouterr().err
    assert "wrote no checkpoint" in err and "checkpoint_mode" in err and "--force" in err
