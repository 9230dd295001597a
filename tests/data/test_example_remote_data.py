"""examples/remote_data.py runs: HTTP in, pilot workers with sandboxes, FTP out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import plait
from plait import Config, File, python_app
from plait.data_provider.http import HTTPInTaskStaging
from plait.executors import HighThroughputExecutor
from plait.providers import LocalProvider
from staging_sites import Site, requests_of

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"



def run_example(http_url: str, ftp_url: str, workers: Path, names: list[str],
                tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLAIT_CACHE_DIR": str(tmp_path / "node-cache")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "remote_data.py"), http_url, ftp_url,
         str(workers), *names],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.mark.timeout(240)
def test_remote_data_example(http: Site, http_base: str, ftp: Site, tmp_path: Path) -> None:
    names = [f"text{i}.txt" for i in range(4)]
    for i, name in enumerate(names):
        http.put(name, " ".join(["alpha", "beta", f"w{i}", "alpha"] * (i + 1)).encode())
    workers = tmp_path / "workers"
    counted = f"{http_base}/flaky/0/{http.key}/{http.key}"  # the server counts the requests
    out = run_example(counted, ftp.url, workers, names, tmp_path)
    assert requests_of(http_base, f"{http.key}:GET") == len(names)
    assert "distinct words per file: [3, 3, 3, 3]" in out.stdout
    assert "most common overall: {'alpha': 20, 'beta': 10" in out.stdout
    results = sorted(p.name for p in (ftp.root / "results").iterdir())
    assert results == sorted([f"{n}.counts" for n in names] + [f"{n}.sorted" for n in names])
    assert (ftp.root / "results" / "text1.txt.counts").read_text() == \
        "alpha 4\nbeta 2\nw1 2\n"
    assert list((workers / "sandbox").iterdir()) == []  # every sandbox removed on success
    assert not list(tmp_path.rglob("sorted.txt"))  # the bash app's scratch file stayed in it
    # a second run, with fresh workers, finds the inputs in the node's staging cache: the
    # server is asked whether they changed (HEAD, by ETag), not for them again
    again = run_example(counted, ftp.url, tmp_path / "workers2", names, tmp_path)
    assert "distinct words per file: [3, 3, 3, 3]" in again.stdout
    assert requests_of(http_base, f"{http.key}:GET") == len(names)
    assert requests_of(http_base, f"{http.key}:HEAD") == len(names)


@python_app
def fails_in_sandbox(inputs: list[File] = ()) -> None:
    import os

    with open("scratch.txt", "w") as f:  # relative: the sandbox is the worker's cwd
        f.write(os.getcwd())
    raise ValueError("the app failed")


@pytest.mark.timeout(120)
def test_failed_task_keeps_its_sandbox_and_names_it(http: Site, tmp_path: Path) -> None:
    url = http.put("in.txt", b"data")
    provider = LocalProvider(init_blocks=1, max_blocks=1,
                             worker_init=f"export PYTHONPATH={TESTS}")
    pilot = HighThroughputExecutor(label="pilot", max_workers_per_node=1, provider=provider,
                                   working_dir=str(tmp_path / "w"), sandbox=True,
                                   storage_access=[HTTPInTaskStaging(cache=False)])
    plait.clear()
    with plait.load(Config(executors=[pilot], run_dir=str(tmp_path / "run"),
                           strategy="none")):
        fut = fails_in_sandbox(inputs=[File(url)])
        with pytest.raises(ValueError, match="the app failed") as info:
            fut.result(timeout=60)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    kept = [p for p in (tmp_path / "w" / "sandbox").iterdir()]
    assert len(kept) == 1 and str(kept[0]) in notes and "kept" in notes
    assert (kept[0] / "in.txt").read_bytes() == b"data"
    assert (kept[0] / "scratch.txt").read_text() == str(kept[0])


@python_app
def size_of(inputs: list[File] = ()) -> int:  # type: ignore[assignment]
    import os

    return os.path.getsize(inputs[0])


@pytest.mark.timeout(120)
def test_separate_staging_tasks_run_on_the_pilot(http: Site, ftp: Site, tmp_path: Path) -> None:
    """Parsl's default (HTTPSeparateTaskStaging): the staging task is a task of its own on
    the pilot's workers, in state staging_in, and lands in the working_dir they share."""
    from plait.data_provider.ftp import FTPSeparateTaskStaging
    from plait.data_provider.http import HTTPSeparateTaskStaging
    from plait.dataflow.states import States

    url = http.put("in.bin", b"x" * 1234)
    provider = LocalProvider(init_blocks=1, max_blocks=1,
                             worker_init=f"export PYTHONPATH={TESTS}")
    pilot = HighThroughputExecutor(label="pilot", max_workers_per_node=2, provider=provider,
                                   working_dir=str(tmp_path / "shared"), storage_access=[
                                       HTTPSeparateTaskStaging(cache=False),
                                       FTPSeparateTaskStaging(cache=False)])
    plait.clear()
    with plait.load(Config(executors=[pilot], run_dir=str(tmp_path / "run"),
                           strategy="none")) as dfk:
        seen: list[States] = []
        dfk.subscribe(lambda e: seen.append(e.new))
        assert size_of(inputs=[File(url)]).result(timeout=60) == 1234
        out = write_bytes(outputs=[File(f"{ftp.url}/o.bin")])
        out.outputs[0].result(timeout=60)
    assert States.staging_in in seen and States.staging_out in seen
    assert (tmp_path / "shared" / "in.bin").stat().st_size == 1234
    assert (ftp.root / "o.bin").read_bytes() == b"pilot"


@python_app
def write_bytes(outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(outputs[0], "wb") as f:
        f.write(b"pilot")
