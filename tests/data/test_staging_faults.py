"""Faults in the task graph: an unreachable server, a 404, a server that keeps failing, a
connection cut halfway, a full disk, an upload the server refuses. Each fails the task with
a StagingError naming the URL, the cause and the number of tries, its dependents with
DependencyError, and leaves no file (whole or partial) where an app would read it."""

from __future__ import annotations

import errno
import io
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, File, ThreadPoolExecutor, python_app
from plait.data_provider.ftp import FTPInTaskStaging
from plait.data_provider.http import HTTPInTaskStaging, HTTPSeparateTaskStaging
from plait.errors import DependencyError, StagingError
from services import service
from staging_sites import Site

TIMEOUT = 30
DATA = os.urandom(300_000)


@python_app
def size(inputs: list[File] = ()) -> int:  # type: ignore[assignment]
    import os

    return os.path.getsize(inputs[0])


@python_app
def after(n: int) -> int:
    return n


@python_app
def write(outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(outputs[0], "wb") as f:
        f.write(b"result")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write to a part file fails as on a full disk (ENOSPC). Simulated: a real full
    file system needs a mount, which a CI machine may not allow."""
    real_open = open

    class Full(io.FileIO):
        def write(self, b: object) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.name)

    def opener(path: object, mode: str = "r", *args: object, **kw: object) -> object:
        if ".part-" in str(path) and "w" in mode:
            return Full(str(path), "w")
        return real_open(path, mode, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", opener)


# (the URL, given the test's site and the server's base URL; attempts; what the cause says)
FAULTS: dict[str, tuple[Callable[[Site, str], str], int, str]] = {
    "unreachable": (lambda s, b: f"http://127.0.0.1:{free_port()}/x", 2, "refused"),
    "404": (lambda s, b: f"{s.url}/missing.bin", 3, "HTTP 404 Not Found"),
    "503 every time": (lambda s, b: f"{b}/flaky/99/{s.key}/{s.key}/a.bin", 3, "HTTP 503"),
    "cut halfway": (lambda s, b: f"{b}/cut/99/{s.key}/{s.key}/a.bin", 2,
                    "the transfer was cut short"),
    "full disk": (lambda s, b: f"{s.url}/a.bin", 3, "No space left on device"),
}
TRIES = {"unreachable": 2, "404": 1, "503 every time": 3, "cut halfway": 2, "full disk": 1}


@pytest.mark.parametrize("separate", [False, True], ids=["in task", "separate task"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failed_fetch_names_url_cause_and_tries(fault: str, separate: bool, http: Site,
                                                  http_base: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    http.put("a.bin", DATA)
    make_url, attempts, cause = FAULTS[fault]
    url = make_url(http, http_base)
    if fault == "full disk":
        full_disk(monkeypatch)
    options: dict[str, Any] = {"cache": False, "attempts": attempts, "backoff": 0.01}
    provider = HTTPSeparateTaskStaging(**options) if separate else HTTPInTaskStaging(**options)
    work = tmp_path / "work"
    ex = ThreadPoolExecutor(max_threads=2, working_dir=str(work), storage_access=[provider])
    plait.clear()
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none")):
        fut = size(inputs=[File(url)])
        dependent = after(fut)
        with pytest.raises((StagingError, DependencyError)) as info:
            fut.result(timeout=TIMEOUT)
        with pytest.raises(DependencyError) as dep:
            dependent.result(timeout=TIMEOUT)
    tries = TRIES[fault]
    expected = f"after {tries} {'try' if tries == 1 else 'tries'}: "
    for text in (str(info.value), str(dep.value)):
        assert url in text and cause in text and expected in text, text
    assert not work.exists() or os.listdir(work) == []  # no file, whole or partial


def test_a_refused_upload_fails_the_output_and_its_readers(ftp: Site, tmp_path: Path) -> None:
    """The FTP server's read-only user may not write: the upload is refused (550), once."""
    s = service("ftp")
    url = (f"ftp://{s['READER']}:{s['READER_PASSWORD']}@{s['HOST']}:{s['PORT']}/"
           f"{ftp.key}/out.bin")
    ex = ThreadPoolExecutor(max_threads=2, working_dir=str(tmp_path / "work"),
                            storage_access=[FTPInTaskStaging(cache=False, backoff=0.01)])
    plait.clear()
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none")):
        made = write(outputs=[File(url)])
        reader = size(inputs=[made.outputs[0]])
        with pytest.raises(StagingError) as info:
            made.outputs[0].result(timeout=TIMEOUT)
        with pytest.raises(DependencyError) as dep:
            reader.result(timeout=TIMEOUT)
    shown = url.replace(f":{s['READER_PASSWORD']}@", ":***@")
    for text in (str(info.value), str(dep.value)):
        assert shown in text and "550" in text and "after 1 try" in text, text
    assert os.listdir(ftp.root) == []  # nothing under the name, and no part file either


def test_a_real_write_failure_leaves_nothing(http: Site, tmp_path: Path) -> None:
    """The kernel itself refuses the write (a file-size limit, EFBIG, in a child process: the
    real-errno counterpart of the simulated full disk above)."""
    import subprocess
    import sys

    url = http.put("a.bin", DATA)
    code = ("import resource, signal, sys; from plait import File; "
            "from plait.data_provider.http import HTTPInTaskStaging as H; "
            "from plait.errors import StagingError; "
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000)); "
            "f = File(sys.argv[1]); f.local_path = sys.argv[2]\n"
            "try: H(cache=False, attempts=3).fetch_here(f)\n"
            "except StagingError as e: print(e)")
    out = subprocess.run([sys.executable, "-c", code, url, str(tmp_path / "w" / "a.bin")],
                         capture_output=True, text=True, timeout=60)
    assert "File too large" in out.stdout and "after 1 try" in out.stdout, out
    assert url in out.stdout
    assert os.listdir(tmp_path / "w") == []  # the part file was removed

