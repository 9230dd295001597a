"""LocalProvider blocks under the parallel launchers: every copy starts, cancel stops them all.

mpiexec and GNU parallel start their copies through helpers of their own; cancelling the
block must still leave nothing behind.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from plait.launchers import GnuParallelLauncher, Launcher, MpiExecLauncher, MpiRunLauncher
from plait.providers import JobState, LocalProvider
from plait.providers._procs import session_processes, wait_gone

from .conftest import Beacon, status_of, wait_block_exit

pytestmark = pytest.mark.timeout(60)

LAUNCHERS = [
    ("mpiexec", MpiExecLauncher(overrides="--oversubscribe", debug=False)),
    ("mpirun", MpiRunLauncher(overrides="--oversubscribe", debug=False)),
    ("parallel", GnuParallelLauncher(debug=False)),
]


@pytest.fixture(autouse=True)
def _openmpi_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI runs as root; OpenMPI refuses that unless told twice. Blocks inherit our environment.
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "1")
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")


@pytest.mark.parametrize(("tool", "launcher"), LAUNCHERS, ids=[t for t, _ in LAUNCHERS])
def test_block_starts_every_copy_and_cancel_stops_them(
    tmp_path: Path, beacon: Beacon, tool: str, launcher: Launcher,
) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: run `make system-deps`")
    # GNU parallel runs tasks_per_node copies at a time on this host; MPI starts them all
    tasks, nodes = (3, 1) if tool == "parallel" else (1, 3)
    prov = LocalProvider(launcher=launcher, walltime=None, cancel_grace=1.0,
                         nodes_per_block=nodes)
    prov.script_dir = str(tmp_path / "scripts")
    job = prov.submit(f"echo up $$ > {beacon.path}; exec sleep 300", tasks)
    lines = beacon.wait_lines(3)
    assert len({line.split()[1] for line in lines}) == 3  # three distinct copies
    tree = session_processes(int(job))
    assert prov.cancel([job]) == [True]
    assert not wait_gone(tree, timeout=10)
    assert not session_processes(int(job))
    assert status_of(prov, job).state is JobState.CANCELLED


def test_mpi_block_reports_failure(tmp_path: Path) -> None:
    prov = LocalProvider(launcher=MpiRunLauncher(overrides="--oversubscribe", debug=False),
                         walltime=None, nodes_per_block=2)
    prov.script_dir = str(tmp_path)
    job = prov.submit("echo rank-failed >&2; exit 5", 1)
    wait_block_exit(job, timeout=30)
    st = status_of(prov, job)
    assert st.state is JobState.FAILED and st.exit_code != 0
    assert "rank-failed" in (st.stderr or "")
    assert os.path.exists(f"{prov.resources[job]['script']}.ec")
