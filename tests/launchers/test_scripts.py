"""Each launcher as a function from (command, tasks_per_node, nodes_per_block) to shell text."""

from __future__ import annotations

import subprocess

import pytest

from plait._errors import ConfigurationError
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

CMD = "process_worker_pool.py --max_workers_per_node=4 -a 'x y'"

ALL: list[Launcher] = [
    SimpleLauncher(), SingleNodeLauncher(), SingleNodeLauncher(fail_on_any=True),
    SrunLauncher(overrides="--mpi=pmi2"), SrunMPILauncher(overrides="-c 2"),
    AprunLauncher(overrides="-cc none"), MpiExecLauncher(overrides="--oversubscribe"),
    MpiRunLauncher(overrides="--oversubscribe"), JsrunLauncher(overrides="-a 1"),
    GnuParallelLauncher(), WrappedLauncher("time"),
]


@pytest.mark.parametrize("launcher", ALL, ids=repr)
def test_script_is_valid_bash_and_keeps_command(launcher: Launcher) -> None:
    text = launcher(CMD, 2, 3, "/tmp/scripts")
    assert CMD in text
    syntax = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True,
                            timeout=10)
    assert syntax.returncode == 0, syntax.stderr


@pytest.mark.parametrize("launcher", ALL, ids=repr)
def test_rejects_bad_counts(launcher: Launcher) -> None:
    for tpn, npb in ((0, 1), (1, 0), (-1, 1)):
        with pytest.raises(ConfigurationError, match="an int >= 1"):
            launcher(CMD, tpn, npb)


def test_simple_returns_command_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    assert SimpleLauncher()(CMD, 1, 1) == CMD
    assert SimpleLauncher()(CMD, 1, 4) == CMD
    assert "4 nodes" in caplog.text


def test_wrapped_prepends() -> None:
    assert WrappedLauncher("singularity exec img.sif")(CMD, 1, 1) == (
        f"singularity exec img.sif {CMD}")


def test_single_node_counts_copies_and_failure_mode() -> None:
    text = SingleNodeLauncher()(CMD, 2, 3)
    assert "WORKERCOUNT=6" in text and "FAILONANY=0" in text
    assert "FAILONANY=1" in SingleNodeLauncher(fail_on_any=True)(CMD, 1, 1)


def test_debug_adds_echo_lines() -> None:
    for cls in (SingleNodeLauncher, SrunLauncher, MpiExecLauncher, GnuParallelLauncher):
        loud, quiet = cls()(CMD, 1, 1), cls(debug=False)(CMD, 1, 1)
        assert loud.count("echo ") > quiet.count("echo "), cls
        assert "Done" not in quiet and "Found" not in quiet


def test_srun_lines() -> None:
    text = SrunLauncher(overrides="--mpi=pmi2")(CMD, 2, 3, "/s")
    assert 'srun --ntasks 6 -l --mpi=pmi2 bash "$CMD_FILE"' in text
    assert "/s/" in text and "CORES=$SLURM_CPUS_ON_NODE" in text
    mpi = SrunMPILauncher()(CMD, 2, 4)
    assert "TASKBLOCKS=2" in mpi and "--exclusive --nodes $NODES_PER_BLOCK" in mpi


def test_mpi_family_lines() -> None:
    assert ("mpiexec --bind-to none -x -n 6 --hostfile"
            in MpiExecLauncher(overrides="-x")(CMD, 2, 3))
    assert "mpiexec -bind none  -n 1" in MpiExecLauncher(bind_cmd="-bind")(CMD, 1, 1)
    assert 'mpirun -np 6 -o /usr/bin/bash "$CMD_FILE"' in MpiRunLauncher(
        bash_location="/usr/bin/bash", overrides="-o")(CMD, 2, 3)
    assert 'aprun -n 6 -N 2 -cc none /bin/bash "$CMD_FILE" &' in AprunLauncher(
        overrides="-cc none")(CMD, 2, 3)
    assert 'jsrun -n 6 -r 2  /bin/bash "$CMD_FILE" &' in JsrunLauncher()(CMD, 2, 3)


def test_gnu_parallel_lines() -> None:
    text = GnuParallelLauncher()(CMD, 2, 3)
    assert "WORKERCOUNT=6" in text and "--jobs 2" in text and "--sshloginfile" in text


def test_heredoc_marker_in_command_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="PLAIT_CMD_EOF"):
        SrunLauncher()("echo a\nPLAIT_CMD_EOF\necho b", 1, 1)


def test_repr_names_parameters() -> None:
    assert repr(SingleNodeLauncher(fail_on_any=True)) == (
        "SingleNodeLauncher(fail_on_any=True, debug=True)")
    assert "bind_cmd='--bind-to'" in repr(MpiExecLauncher())
    assert "prepend='time'" in repr(WrappedLauncher("time"))
