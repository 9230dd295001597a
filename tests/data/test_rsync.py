"""rsync over SSH against the real loopback sshd: direct (point-to-point) and relayed
through the submitting machine; Parsl's RSyncStaging(hostname) for plain paths."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

import plait
from plait import Config, File, ThreadPoolExecutor, python_app
from plait.data_provider.rsync import RSyncStaging
from plait.errors import ConfigurationError, StagingError
from services import service

TIMEOUT = 60


def ssh_options(name: str = "sshd") -> list[str]:
    s = service(name)
    return ["-i", s["SSHD_KEY"], "-o", f"UserKnownHostsFile={s['SSHD_KNOWN_HOSTS']}",
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes"]


def url_of(path: Path, name: str = "sshd") -> str:
    s = service(name)
    return f"rsync://{s['SSHD_USER']}@{s['SSHD_HOST']}:{s['SSHD_PORT']}{path}"


def at(url: str, local: Path) -> File:
    f = File(url)
    f.local_path = str(local)
    return f


def test_fetch_and_push_over_ssh(tmp_path: Path) -> None:
    remote = tmp_path / "remote" / "in.bin"
    remote.parent.mkdir()
    remote.write_bytes(b"rsync payload")
    provider = RSyncStaging(ssh_options=ssh_options(), cache=True,
                            cache_dir=str(tmp_path / "cache"))
    assert provider.fetch_here(at(url_of(remote), tmp_path / "local.bin")) is False
    assert (tmp_path / "local.bin").read_bytes() == b"rsync payload"
    assert provider.fetch_here(at(url_of(remote), tmp_path / "again.bin")) is True
    out = tmp_path / "remote" / "new" / "dir" / "out.bin"
    provider.push_here(at(url_of(out), tmp_path / "local.bin"))
    assert out.read_bytes() == b"rsync payload"


def test_missing_remote_file_is_a_clear_error(tmp_path: Path) -> None:
    provider = RSyncStaging(ssh_options=ssh_options(), attempts=3, backoff=0.01)
    url = url_of(tmp_path / "nothing")
    with pytest.raises(StagingError, match="rsync exited with 23") as info:
        provider.fetch_here(at(url, tmp_path / "x"))
    assert info.value.attempts == 1 and url in str(info.value)
    assert not (tmp_path / "x").exists()


def test_unreachable_host_is_retried_then_reported(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = RSyncStaging(ssh_options=ssh_options(), attempts=2, backoff=0.01, timeout=5)
    with pytest.raises(StagingError, match=r"2 tries.*Connection refused"):
        provider.fetch_here(at(f"rsync://root@127.0.0.1:{port}/x", tmp_path / "x"))


def test_relay_needs_to_know_how_workers_reach_the_submitter() -> None:
    with pytest.raises(ConfigurationError, match="relay"):
        RSyncStaging(direct=False)


@python_app
def shout(inputs: list[File] = (), outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(inputs[0]) as src, open(outputs[0], "w") as dst:
        dst.write(src.read().upper())


def run_shout(tmp_path: Path, provider: RSyncStaging, src: File, dst: File) -> None:
    plait.clear()
    ex = ThreadPoolExecutor(storage_access=[provider], working_dir=str(tmp_path / "work"))
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none")):
        shout(inputs=[src], outputs=[dst]).outputs[0].result(timeout=TIMEOUT)


def test_point_to_point_in_a_task(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    site_a = tmp_path / "site-a"
    site_a.mkdir()
    (site_a / "in.txt").write_text("from site a")
    caplog.set_level(logging.INFO, "plait.data")
    run_shout(tmp_path, RSyncStaging(ssh_options=ssh_options()),
              File(url_of(site_a / "in.txt")), File(url_of(tmp_path / "site-b" / "o.txt")))
    assert (tmp_path / "site-b" / "o.txt").read_text() == "FROM SITE A"
    assert "point-to-point" in caplog.text


def test_through_the_submitting_machine(tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    """Workers that cannot reach the file's host get it through the submitter: a staging
    task on the submitter pulls it (from the host at 127.0.0.1) into relay_dir, the worker
    pulls it from the relay address (127.0.0.2), and outputs return the same way."""
    b = service("sshd-b")
    site_a = tmp_path / "site-a"
    site_a.mkdir()
    (site_a / "in.txt").write_text("relayed")
    caplog.set_level(logging.INFO, "plait.data")
    provider = RSyncStaging(ssh_options=ssh_options(), direct=False,
                            relay=f"{b['SSHD_USER']}@{b['SSHD_HOST']}:{b['SSHD_PORT']}",
                            relay_dir=str(tmp_path / "relay"))
    run_shout(tmp_path, provider, File(url_of(site_a / "in.txt")),
              File(url_of(site_a / "out.txt")))
    assert (site_a / "out.txt").read_text() == "RELAYED"
    assert caplog.text.count("through the submitting machine") == 2
    # the output's relay copy is removed once pushed on, the input's once the task is done
    assert list((tmp_path / "relay").iterdir()) == []


def test_a_relayed_input_read_by_two_tasks_stays_until_both_are_done(tmp_path: Path) -> None:
    b = service("sshd-b")
    site_a = tmp_path / "site-a"
    site_a.mkdir()
    (site_a / "in.txt").write_text("shared")
    provider = RSyncStaging(ssh_options=ssh_options(), direct=False,
                            relay=f"{b['SSHD_USER']}@{b['SSHD_HOST']}:{b['SSHD_PORT']}",
                            relay_dir=str(tmp_path / "relay"))
    plait.clear()
    ex = ThreadPoolExecutor(storage_access=[provider], working_dir=str(tmp_path / "work"))
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none")):
        src = File(url_of(site_a / "in.txt"))
        outs = [shout(inputs=[src], outputs=[File(url_of(site_a / f"o{i}.txt"))])
                for i in range(2)]
        for out in outs:
            out.outputs[0].result(timeout=TIMEOUT)
    assert [(site_a / f"o{i}.txt").read_text() for i in range(2)] == ["SHARED"] * 2
    assert list((tmp_path / "relay").iterdir()) == []


def test_parsl_rsync_staging_of_plain_paths(tmp_path: Path) -> None:
    s = service("sshd")
    src = tmp_path / "shared" / "in.txt"
    src.parent.mkdir()
    src.write_text("plain path")
    provider = RSyncStaging(f"{s['SSHD_USER']}@{s['SSHD_HOST']}",
                            ssh_options=[*ssh_options(), "-p", s["SSHD_PORT"]])
    run_shout(tmp_path, provider, File(str(src)), File(str(tmp_path / "shared" / "o.txt")))
    assert (tmp_path / "shared" / "o.txt").read_text() == "PLAIN PATH"
    assert os.path.exists(tmp_path / "work" / "o.txt")  # written locally, then pushed


@python_app(executors=["site_a"])
def produce(outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    from pathlib import Path

    Path(outputs[0]).write_text("made on site a")


@python_app(executors=["site_b"])
def consume(inputs: list[File] = ()) -> str:  # type: ignore[assignment]
    from pathlib import Path

    return f"{Path(inputs[0]).read_text()}, read on site b from {inputs[0].filepath}"


def test_a_plain_path_moves_between_two_sites(tmp_path: Path) -> None:
    """Parsl's RSyncStaging(hostname) on two executors with no directory in common: site a's
    output File("/.../out.txt") is pushed to the submitting host, and site b's task pulls
    it from there; the app code names one path and never copies anything."""
    s = service("sshd")
    options = [*ssh_options(), "-p", s["SSHD_PORT"]]
    sites = [ThreadPoolExecutor(label=label, working_dir=str(tmp_path / label),
                                storage_access=[RSyncStaging(f"root@{s['SSHD_HOST']}",
                                                             ssh_options=options)])
             for label in ("site_a", "site_b")]
    plait.clear()
    shared = File(str(tmp_path / "submitter" / "out.txt"))
    with plait.load(Config(executors=sites, run_dir=str(tmp_path / "run"), strategy="none")):
        made = produce(outputs=[shared])
        text = consume(inputs=[made.outputs[0]]).result(timeout=TIMEOUT)
    assert text == f"made on site a, read on site b from {tmp_path / 'site_b' / 'out.txt'}"
    assert (tmp_path / "submitter" / "out.txt").read_text() == "made on site a"
    assert (tmp_path / "site_a" / "out.txt").exists()
