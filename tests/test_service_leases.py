"""The leases of machine-wide services (services/_lib.sh): the last checkout to go stops the
daemons, and a lease nobody holds any more (its checkout deleted, or its env file gone) never
keeps them running.

Each "checkout" is a copy of services/_lib.sh beside a small machine-wide service whose daemon
is a real process (``sleep``) with a pid file, in a private PLAIT_MACHINE_DIR: the real
Slurm and Grid Engine, shared with other checkouts, are not touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "services" / "_lib.sh"

FAKE_SERVICE = """#!/usr/bin/env bash
source "$(dirname "$0")/_lib.sh"
PIDFILE=$MACHINE_DIR/fake/daemon.pid
do_up() {
  pid_alive "$PIDFILE" || { setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! > "$PIDFILE"; }
  lease_take fake
  write_env fake FAKE=1
}
do_stop() { stop_pidfile "$PIDFILE" 5; }
machine_service fake "${1:-}"
"""


class Checkout:
    def __init__(self, root: Path, machine_dir: Path) -> None:
        self.services = root / "services"
        self.services.mkdir(parents=True)
        shutil.copy(LIB, self.services / "_lib.sh")
        (self.services / "fake.sh").write_text(FAKE_SERVICE)
        self.env = {**os.environ, "PLAIT_MACHINE_DIR": str(machine_dir)}

    def run(self, action: str) -> str:
        done = subprocess.run(["bash", str(self.services / "fake.sh"), action], env=self.env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def machine(tmp_path: Path):  # type: ignore[no-untyped-def]
    machine_dir = tmp_path / "machine"
    yield machine_dir
    pidfile = machine_dir / "fake" / "daemon.pid"
    if pidfile.exists():  # a failed test must not leave its daemon behind
        subprocess.run(["kill", pidfile.read_text().strip()], capture_output=True)


def daemon_alive(machine_dir: Path) -> bool:
    pidfile = machine_dir / "fake" / "daemon.pid"
    if not pidfile.exists():
        return False
    return subprocess.run(["kill", "-0", pidfile.read_text().strip()],
                          capture_output=True).returncode == 0


def test_daemons_stop_with_the_last_checkout(tmp_path: Path, machine: Path) -> None:
    a, b = Checkout(tmp_path / "a", machine), Checkout(tmp_path / "b", machine)
    a.run("up")
    b.run("up")
    assert "still used by another checkout" in a.run("down")
    assert daemon_alive(machine)
    assert "still used" not in b.run("down")
    assert not daemon_alive(machine)
    assert not (machine / "fake" / "daemon.pid").exists()


def test_lease_of_a_deleted_checkout_does_not_keep_daemons(tmp_path: Path,
                                                           machine: Path) -> None:
    gone, live = Checkout(tmp_path / "gone", machine), Checkout(tmp_path / "live", machine)
    gone.run("up")
    live.run("up")
    shutil.rmtree(tmp_path / "gone")  # a clone deleted without `make services-down`
    out = live.run("down")
    assert "stale lease" in out and "still used" not in out, out
    assert not daemon_alive(machine)
    assert not list((machine / "fake" / "leases").iterdir())


def test_lease_whose_env_file_is_gone_does_not_keep_daemons(tmp_path: Path,
                                                            machine: Path) -> None:
    cleaned, live = Checkout(tmp_path / "c", machine), Checkout(tmp_path / "l", machine)
    cleaned.run("up")
    live.run("up")
    (cleaned.services / "run" / "fake.env").unlink()  # `git clean -fdx` in that checkout
    assert "still used" not in live.run("down")
    assert not daemon_alive(machine)


def test_up_and_down_are_idempotent(tmp_path: Path, machine: Path) -> None:
    a = Checkout(tmp_path / "a", machine)
    a.run("up")
    pid = (machine / "fake" / "daemon.pid").read_text()
    a.run("up")
    assert (machine / "fake" / "daemon.pid").read_text() == pid
    a.run("down")
    a.run("down")
    assert not daemon_alive(machine)
