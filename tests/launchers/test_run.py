"""Launchers run for real: the right number of copies start, concurrently, with exit codes.

Tools (mpiexec, mpirun, parallel) must be installed; a missing one fails the test.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from plait.launchers import (
    AprunLauncher,
    GnuParallelLauncher,
    JsrunLauncher,
    Launcher,
    MpiExecLauncher,
    MpiRunLauncher,
    SimpleLauncher,
    SingleNodeLauncher,
    SrunLauncher,
    SrunMPILauncher,
    WrappedLauncher,
)

from .conftest import MPI_ENV, BlockRunner, barrier_command, require_tool, started

pytestmark = pytest.mark.timeout(90)


def test_simple_runs_one_copy(runner: BlockRunner, tmp_path: Path) -> None:
    res = runner.run(SimpleLauncher(), barrier_command(tmp_path, 1), 1, 1)
    assert res.returncode == 0 and started(tmp_path) == 1


def test_simple_passes_exit_code(runner: BlockRunner) -> None:
    assert runner.run(SimpleLauncher(), "echo oops >&2; exit 4", 1, 1).returncode == 4


def test_wrapped_runs_prefix(runner: BlockRunner, tmp_path: Path) -> None:
    res = runner.run(WrappedLauncher("env PLAIT_WRAPPED=yes"),
                     "bash -c 'echo w=$PLAIT_WRAPPED'", 1, 1)
    assert res.returncode == 0 and "w=yes" in res.stdout


@pytest.mark.parametrize(("tasks", "nodes"), [(3, 1), (1, 3), (2, 2)])
def test_single_node_starts_all_copies_together(
    runner: BlockRunner, tmp_path: Path, tasks: int, nodes: int,
) -> None:
    copies = tasks * nodes
    res = runner.run(SingleNodeLauncher(), barrier_command(tmp_path, copies), tasks, nodes)
    assert res.returncode == 0, res.stderr
    assert started(tmp_path) == copies
    assert res.stdout.count("Launching worker") == copies


SOME_FAIL = 'echo "copy $1 failing" >&2; [ "$1" = 2 ] && exit 7; exit 0'


def test_single_node_exit_zero_unless_all_fail(runner: BlockRunner) -> None:
    res = runner.run(SingleNodeLauncher(), SOME_FAIL, 3, 1)
    assert res.returncode == 0
    res = runner.run(SingleNodeLauncher(), 'exit $((4 + $1))', 3, 1)
    assert res.returncode == 5  # all failed: the first copy's code


def test_single_node_fail_on_any(runner: BlockRunner) -> None:
    res = runner.run(SingleNodeLauncher(fail_on_any=True), SOME_FAIL, 3, 1)
    assert res.returncode == 7
    assert "copy 2 failing" in res.stderr
    assert runner.run(SingleNodeLauncher(fail_on_any=True), "exit 0", 3, 1).returncode == 0


@pytest.mark.parametrize("launcher", [
    MpiExecLauncher(overrides="--oversubscribe"),
    MpiRunLauncher(overrides="--oversubscribe"),
], ids=repr)
def test_openmpi_starts_all_copies_together(
    runner: BlockRunner, tmp_path: Path, launcher: Launcher,
) -> None:
    require_tool("mpiexec")
    require_tool("mpirun")
    copies = 3  # more than the 2 cores CI has: needs --oversubscribe
    res = runner.run(launcher, barrier_command(tmp_path, copies) + " # rank $OMPI_COMM_WORLD_RANK",
                     1, copies, env=MPI_ENV)
    assert res.returncode == 0, res.stderr
    assert started(tmp_path) == copies


def test_mpiexec_uses_deduplicated_nodefile(runner: BlockRunner, tmp_path: Path) -> None:
    require_tool("mpiexec")
    nodefile = tmp_path / "nodes"
    nodefile.write_text("localhost\nlocalhost\nlocalhost\n")
    res = runner.run(MpiExecLauncher(overrides="--oversubscribe"),
                     barrier_command(tmp_path, 2), 1, 2,
                     env={**MPI_ENV, "PBS_NODEFILE": str(nodefile)})
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "hostfile_block0").read_text() == "localhost\n"
    assert started(tmp_path) == 2


def test_openmpi_reports_failure(runner: BlockRunner) -> None:
    require_tool("mpirun")
    res = runner.run(MpiRunLauncher(overrides="--oversubscribe"), "exit 3", 1, 2, env=MPI_ENV)
    assert res.returncode != 0


def test_gnu_parallel_runs_locally(runner: BlockRunner, tmp_path: Path) -> None:
    require_tool("parallel")
    res = runner.run(GnuParallelLauncher(), barrier_command(tmp_path, 3), 3, 1)
    assert res.returncode == 0, res.stderr
    assert started(tmp_path) == 3
    log = (tmp_path / "cmd_block0.sh.parallel.log").read_text().splitlines()
    assert len(log) == 4  # header + one line per copy


def test_gnu_parallel_nodefile_naming_this_host_runs_without_ssh(
    runner: BlockRunner, tmp_path: Path,
) -> None:
    require_tool("parallel")
    nodefile = tmp_path / "nodes"
    nodefile.write_text("localhost\nlocalhost\n")
    res = runner.run(GnuParallelLauncher(), barrier_command(tmp_path, 2), 2, 1,
                     env={"PBS_NODEFILE": str(nodefile)})
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "sshlogin_block0").read_text() == ":\n"
    assert started(tmp_path) == 2


def test_gnu_parallel_reports_failure(runner: BlockRunner) -> None:
    require_tool("parallel")
    res = runner.run(GnuParallelLauncher(), "exit 3", 2, 1)
    assert res.returncode != 0


# srun, aprun and jsrun do not exist here. A stand-in that starts `-n/--ntasks` copies of
# "<interpreter> <file>" checks what our script does around them: it writes the command file,
# passes the counts, and waits for the copies.
FAKE_STARTER = """#!/bin/bash
echo "$(basename "$0") $*" >> "$FAKE_LOG"
n=1
while [ $# -gt 2 ]; do
    case "$1" in --ntasks|-n) n=$2; shift;; esac
    shift
done
pids=""
for i in $(seq 1 "$n"); do "$1" "$2" & pids="$pids $!"; done
code=0
for p in $pids; do wait "$p" || code=$?; done
exit $code
"""


@pytest.mark.parametrize(("launcher", "tool", "expect"), [
    (SrunLauncher(overrides="--mpi=none"), "srun", "srun --ntasks 3 -l --mpi=none bash "),
    (SrunMPILauncher(), "srun", "srun --ntasks 1 -l bash "),
    (AprunLauncher(), "aprun", "aprun -n 3 -N 3 /bin/bash "),
    (JsrunLauncher(), "jsrun", "jsrun -n 3 -r 3 /bin/bash "),
], ids=["srun", "srun_mpi", "aprun", "jsrun"])
def test_starter_scripts_with_stand_in_tool(
    runner: BlockRunner, tmp_path: Path, launcher: Launcher, tool: str, expect: str,
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / tool
    fake.write_text(FAKE_STARTER)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "starter.log"
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_LOG": str(log),
           "SLURM_CPUS_ON_NODE": "3", "SLURM_JOB_NUM_NODES": "1"}
    res = runner.run(launcher, barrier_command(tmp_path, 3), 3, 1, env=env)
    assert res.returncode == 0, res.stderr
    assert log.read_text().startswith(expect)
    assert started(tmp_path) == 3
    failed = runner.run(launcher, "exit 3", 3, 1, env=env)
    assert failed.returncode == 3, failed.stdout
