"""The VM boot script really does what the cloud providers rely on: worker_init, the
workers under the walltime, the exit code logged, then power-off (unless linger).

stand-in: the script runs here under bash, with its two absolute paths (/var/tmp, /var/log)
moved into the test's folder and ``shutdown`` replaced by a stub that records its call.
Everything else is the text a cloud machine receives as user data.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from plait.providers.aws.aws import AWSProvider


def run_boot_script(tmp_path: Path, **kwargs: object) -> tuple[str, str | None, float]:
    """Run a provider's boot script; returns (block log, shutdown's arguments, seconds)."""
    prov = AWSProvider("ami-1", **kwargs)  # type: ignore[arg-type]
    script = prov.worker_script(f"sleep 30; echo worker-ran > {tmp_path}/worker", 1, "blk")
    script = script.replace("/var/tmp/plait-block.sh", str(tmp_path / "block.sh"))
    script = script.replace("/var/log/plait-block.log", str(tmp_path / "block.log"))
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "shutdown").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/shutdown\n')
    (stubs / "shutdown").chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    start = time.monotonic()
    subprocess.run(["bash", "-c", script], env=env, timeout=60, check=True,
                   start_new_session=True)
    took = time.monotonic() - start
    shutdown = tmp_path / "shutdown"
    return ((tmp_path / "block.log").read_text(),
            shutdown.read_text().strip() if shutdown.exists() else None, took)


@pytest.mark.timeout(60)
def test_walltime_stops_the_workers_then_the_machine_powers_off(tmp_path: Path) -> None:
    log, shutdown, took = run_boot_script(
        tmp_path, walltime="00:00:01", worker_init=f"echo init-ran > {tmp_path}/init")
    assert (tmp_path / "init").read_text().strip() == "init-ran"
    assert not (tmp_path / "worker").exists()  # stopped at the walltime, before it finished
    assert "plait: block ended with exit code 124" in log  # coreutils timeout's code
    assert shutdown == "-h now"
    assert took < 25  # bound generous under load; the walltime is 1 s


def test_a_failing_worker_init_ends_the_block_with_its_reason(tmp_path: Path) -> None:
    log, shutdown, _ = run_boot_script(tmp_path, walltime=None,
                                       worker_init="source /no/such/env.sh")
    assert "worker_init failed (exit code 1): source /no/such/env.sh" in log
    assert "plait: block ended with exit code 1" in log
    assert not (tmp_path / "worker").exists()
    assert shutdown == "-h now"  # a broken machine does not linger and bill


def test_linger_keeps_the_machine_up(tmp_path: Path) -> None:
    prov_kwargs = {"linger": True, "worker_init": "exit 3"}
    log, shutdown, _ = run_boot_script(tmp_path, **prov_kwargs)
    assert "plait: block ended with exit code 3" in log
    assert shutdown is None
