"""CurveZMQ: an encrypted executor works; a manager with the wrong keys is refused and logged."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import pytest
from pilot_tasks import add

from plait.executors.pilot._curve import create_certificates


@pytest.mark.timeout(60)
def test_encrypted_executor_runs_tasks_with_private_keys(make_htex):
    ex, _ = make_htex(encrypted=True)
    assert ex.submit(add, {}, 2, 3).result(timeout=30) == 5
    assert ex.cert_dir and ex.cert_dir.endswith(os.path.join(ex.label, "certificates"))
    assert stat.S_IMODE(os.stat(ex.cert_dir).st_mode) == 0o700
    for name in os.listdir(ex.cert_dir):
        assert stat.S_IMODE(os.stat(os.path.join(ex.cert_dir, name)).st_mode) == 0o600


@pytest.mark.timeout(60)
@pytest.mark.parametrize("which", ["client_key", "all_keys", "no_keys"])
def test_manager_with_wrong_keys_is_refused(make_htex, tmp_path, which):
    ex, _ = make_htex(encrypted=True)
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    wrong = create_certificates(str(tmp_path / "wrong"))
    if which == "client_key":  # trusts the right server, presents an unknown client key
        shutil.copy(os.path.join(ex.cert_dir, "server.key"), wrong)
    cert_arg = "None" if which == "no_keys" else wrong
    proc = subprocess.run(
        [sys.executable, "-m", "plait.executors.pilot._manager", "-a", "127.0.0.1",
         f"--port={ex.worker_port}", "--cert_dir", cert_arg, f"--logdir={tmp_path}",
         "--address_probe_timeout=1.5", "--block_id=intruder"],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "no reply from the interchange" in proc.stderr
    assert ex.submit(add, {}, 2, 2).result(timeout=30) == 4  # nothing crashed
    assert len(ex.connected_managers()) == 1
    with open(os.path.join(ex.run_dir, ex.label, "interchange.log")) as fh:
        log = fh.read()
    assert "refused" in log or "handshake" in log, log[-2000:]
