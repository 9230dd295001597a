"""``plait job-script CONFIG.py`` prints every block's script before anything is submitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from plait.cli._main import main

CONFIG = """
from plait import Config, ThreadPoolExecutor
from plait.executors import HighThroughputExecutor
from plait.providers import GridEngineProvider, SlurmProvider
from plait.transport import SSHTransport

config = Config(executors=[
    HighThroughputExecutor(label="cluster", provider=SlurmProvider(
        partition="no-such-partition", account="proj1", walltime="01:30:00",
        worker_init="module load python", transport=SSHTransport("login.example.org"))),
    HighThroughputExecutor(label="sge", provider=GridEngineProvider(queue="all.q")),
    ThreadPoolExecutor(label="local"),
])
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.py"
    path.write_text(CONFIG)
    return path


def test_prints_every_providers_script_and_submits_nothing(
        config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["job-script", str(config_file)]) == 0
    out = capsys.readouterr().out
    for line in ("#SBATCH --partition=no-such-partition", "#SBATCH --account=proj1",
                 "#SBATCH --time=90", "module load python", "#$ -q all.q",
                 "#$ -l h_rt=00:10:00", "plait-worker-pool ...",
                 "'local': ThreadPoolExecutor submits no batch jobs", "nothing was submitted"):
        assert line in out, line
    # no run directory, no script written, no SSH connection to the (made-up) login node
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.py"]


def test_one_executor_and_a_given_command(config_file: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["job-script", str(config_file), "--executor", "sge",
                 "--command", "echo hello"]) == 0
    out = capsys.readouterr().out
    assert "echo hello" in out and "#SBATCH" not in out


def test_unknown_executor_names_the_ones_there(config_file: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["job-script", str(config_file), "--executor", "gpu"]) == 1
    out = capsys.readouterr().out
    assert "no executor labelled gpu" in out and "(its executors: cluster, sge, local)" in out
