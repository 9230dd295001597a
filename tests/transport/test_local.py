"""LocalTransport runs real commands, returns their output, and kills them at the deadline."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import psutil
import pytest

from plait.transport import CommandTimeout, LocalTransport


def test_run_returns_code_and_output(tmp_path: Path) -> None:
    t = LocalTransport(script_dir=str(tmp_path), env={"PLAIT_T": "v"})
    code, out, err = t.run('echo "out $PLAIT_T $PWD"; echo err >&2; exit 3', timeout=10)
    assert (code, out, err) == (3, f"out v {tmp_path}\n", "err\n")
    assert t.run("echo $X", env={"X": "call"})[1] == "call\n"


@pytest.mark.timeout(30)
def test_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    t = LocalTransport()
    start = time.monotonic()
    with pytest.raises(CommandTimeout, match="raise the provider's cmd_timeout") as info:
        t.run(f"sleep 60 & echo $! > {pidfile}; sleep 60", timeout=0.5)
    assert time.monotonic() - start < 10
    assert info.value.command.startswith("sleep 60")
    child = int(pidfile.read_text())
    try:  # SIGKILL was sent to the whole group; give the kernel a moment to end it
        psutil.Process(child).wait(timeout=5)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        assert psutil.Process(child).status() == "zombie", "a child survived the timeout"
    back = pickle.loads(pickle.dumps(info.value))
    assert str(back) == str(info.value)


def test_push_file(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("data")
    dest = LocalTransport().push_file(str(src), str(tmp_path / "sub"))
    assert Path(dest).read_text() == "data"
    assert LocalTransport().push_file(dest, os.path.dirname(dest)) == dest
