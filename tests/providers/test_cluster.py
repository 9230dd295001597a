"""ClusterProvider's shared machinery, driven by a tiny real "scheduler" made of shell commands.

``ShellBatchProvider`` submits with ``setsid bash <script> &``, asks ``ps`` for status and
cancels with ``kill``: real commands through the real LocalTransport.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plait._errors import ConfigurationError
from plait.launchers import BadLauncher, Launcher, SimpleLauncher
from plait.providers import (
    ClusterProvider,
    JobState,
    JobStatus,
    SchedulerMissingArgs,
    ScriptPathError,
    SubmitException,
)
from plait.providers._cluster import walltime_to_minutes, walltime_to_seconds, worker_init_lines
from plait.providers._procs import session_processes, wait_gone

TEMPLATE = """#!/bin/bash
# job ${jobname}: ${nodes} node(s), walltime ${walltime}
${scheduler_options}
${worker_init}
export JOBNAME="${jobname}"
${user_script}
"""


class ShellBatchProvider(ClusterProvider):
    """A scheduler stand-in built from shell commands (test only)."""

    def __init__(self, launcher: Launcher | None = None, submit_cmd: str | None = None,
                 cmd_timeout: float = 10, template: str = TEMPLATE) -> None:
        super().__init__("shellbatch", 1, 1, 0, 1, 1, "00:10:00", launcher or SimpleLauncher(),
                         cmd_timeout=cmd_timeout)
        self.submit_cmd = submit_cmd
        self.template = template

    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        path = self.script_path(job_name)
        assert self.launcher is not None
        self._write_submit_script(self.template, path, job_name, {
            "nodes": self.nodes_per_block, "walltime": self.walltime,
            "scheduler_options": "", "worker_init": worker_init_lines(self.worker_init),
            "user_script": self.launcher(command, tasks_per_node, self.nodes_per_block)})
        cmd = self.submit_cmd or (f"setsid bash {path} > {path}.stdout 2> {path}.stderr "
                                  "< /dev/null & echo $!")
        job_id = self.run_submit(job_name, cmd).strip()
        self.resources[job_id] = {"job_name": job_name, "status": JobStatus(JobState.PENDING)}
        return job_id

    def _status(self) -> None:
        ids = " ".join(self.resources)
        _, out, _ = self.execute_wait(
            # an orphan's zombie counts as done: this container's init may not reap it
            f"for p in {ids}; do s=$(ps -o stat= -p $p); "
            'case "$s" in ""|Z*) echo $p D;; *) echo $p R;; esac; done')
        for line in out.splitlines():
            job_id, state = line.split()
            self.resources[job_id]["status"] = JobStatus(
                JobState.RUNNING if state == "R" else JobState.COMPLETED)

    def cancel(self, job_ids: list[str]) -> list[bool]:
        code, _, _ = self.execute_wait("kill -9 " + " ".join(f"-- -{j}" for j in job_ids))
        return [code == 0] * len(job_ids)


@pytest.fixture
def shell_provider(tmp_path: Path) -> ShellBatchProvider:
    prov = ShellBatchProvider()
    prov.script_dir = str(tmp_path)
    prov.status_min_interval = 0  # the test checks states right after each change
    return prov


@pytest.mark.timeout(30)
def test_submit_status_cancel_through_transport(shell_provider: ShellBatchProvider) -> None:
    job = shell_provider.submit("sleep 300", 1, "blk")
    script = Path(shell_provider.script_path("blk")).read_text()
    assert "# job blk: 1 node(s), walltime 00:10:00" in script
    assert 'export JOBNAME="blk"' in script and "sleep 300" in script
    assert [s.state for s in shell_provider.status([job, "nope"])] == [
        JobState.RUNNING, JobState.MISSING]
    tree = session_processes(int(job))
    assert tree
    assert shell_provider.cancel([job]) == [True]
    assert not wait_gone(tree, timeout=10)
    assert shell_provider.status([job])[0].state is JobState.COMPLETED


def test_missing_template_key(shell_provider: ShellBatchProvider) -> None:
    shell_provider.template = TEMPLATE + "#SBATCH --account=${account}\n"
    with pytest.raises(SchedulerMissingArgs, match="account") as info:
        shell_provider.submit("true", 1)
    assert "shellbatch" in str(info.value)


def test_unset_script_dir() -> None:
    with pytest.raises(ScriptPathError, match="script_dir is not set"):
        ShellBatchProvider().submit("true", 1, "b")


def test_submit_failure_carries_scheduler_output(shell_provider: ShellBatchProvider) -> None:
    shell_provider.submit_cmd = "echo 'sbatch: error: invalid partition' >&2; exit 1"
    with pytest.raises(SubmitException, match="invalid partition") as info:
        shell_provider.submit("true", 1, "blk")
    assert info.value.retcode == 1 and info.value.job_name == "blk"


@pytest.mark.timeout(30)
def test_submit_timeout_is_a_submit_exception(shell_provider: ShellBatchProvider) -> None:
    shell_provider.cmd_timeout = 0.3
    shell_provider.submit_cmd = "sleep 30"
    with pytest.raises(SubmitException, match="cmd_timeout"):
        shell_provider.submit("true", 1, "blk")


def test_walltime_parsing() -> None:
    assert walltime_to_seconds("01:02:03") == 3723
    assert walltime_to_seconds("48:00:00") == 172800
    assert walltime_to_minutes("00:10:01") == 11
    for bad in ("10:00", "1:60:00", "ten", 600):
        with pytest.raises(ConfigurationError, match="HH:MM:SS"):
            walltime_to_seconds(bad)  # type: ignore[arg-type]


def test_bad_launcher_and_cmd_timeout() -> None:
    with pytest.raises(BadLauncher):
        ShellBatchProvider(launcher=SimpleLauncher)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="cmd_timeout"):
        ShellBatchProvider(cmd_timeout=0)


def test_worker_init_lines() -> None:
    assert worker_init_lines("  ") == ""
    text = worker_init_lines("module load python\nconda activate env")
    assert text.startswith("module load python\nconda activate env\n")
    assert "worker_init failed" in text and "module load python" in text
