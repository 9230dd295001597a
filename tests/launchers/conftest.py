"""Run a launcher's script for real, in its own session, and check nothing is left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from plait.launchers import Launcher

# OpenMPI refuses to run as root unless told twice (CI runs as root).
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def require_tool(name: str) -> str:
    """The path of a tool the test needs; fail (never skip) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make system-deps` (Debian packages "
                    "openmpi-bin parallel procps)")
    return path


def session_processes(sid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    return found


class BlockRunner:
    """Writes ``export JOBNAME`` + a launcher's output to a script and runs it with bash."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def run(
        self, launcher: Launcher, command: str, tasks_per_node: int, nodes_per_block: int,
        env: dict[str, str] | None = None, timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        script = self.folder / "block.sh"
        script.write_text("export JOBNAME=block0\n" + launcher(
            command, tasks_per_node, nodes_per_block, str(self.folder)))
        proc = subprocess.Popen(
            ["bash", str(script)], cwd=self.folder, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.communicate(timeout=10)
        left = session_processes(proc.pid)
        assert not left, f"processes left behind by {launcher!r}: {left}"
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[BlockRunner]:
    yield BlockRunner(tmp_path)


def barrier_command(folder: Path, copies: int, exit_code: int = 0) -> str:
    """Each copy records itself, then waits (up to 20 s) until all ``copies`` have started.

    Copies exit 0 only if they all ran at the same time, which proves real concurrency.
    """
    return (
        f'mktemp "{folder}/started.XXXXXX" > /dev/null; '
        "for i in $(seq 1 400); do "
        f'  [ "$(ls "{folder}" | grep -c "^started\\.")" -ge {copies} ] && exit {exit_code}; '
        "  sleep 0.05; "
        "done; exit 99"
    )


def started(folder: Path) -> int:
    return len(list(folder.glob("started.*")))
