"""SSHTransport against a real OpenSSH server on loopback (services/sshd.sh), and Slurm's
commands run through it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import plait
from plait import Config, python_app
from plait.executors import HighThroughputExecutor
from plait.providers import SlurmProvider
from plait.transport import CommandTimeout, SSHTransport, TransportFailed
from services import service
from slurm_jobs import WORKER_INIT, slurm


def transport_for(name: str = "sshd", **options: object) -> SSHTransport:
    """A transport to an sshd of services/sshd.sh; ``options`` override the defaults."""
    s = service(name)
    settings: dict[str, object] = {
        "username": s["SSHD_USER"], "port": int(s["SSHD_PORT"]), "key_filename": s["SSHD_KEY"],
        "known_hosts": s["SSHD_KNOWN_HOSTS"], **options}
    return SSHTransport(s["SSHD_HOST"], **settings)  # type: ignore[arg-type]


@pytest.fixture
def ssh() -> Iterator[SSHTransport]:
    transport = transport_for(envs={"PLAIT_GREETING": "hello there"})
    yield transport
    transport.close()


def test_runs_commands_with_exit_code_output_and_env(ssh: SSHTransport) -> None:
    assert ssh.run("echo out; echo err >&2; exit 3", timeout=20) == (3, "out\n", "err\n")
    code, out, _ = ssh.run('echo "$PLAIT_GREETING/$EXTRA"', timeout=20, env={"EXTRA": "x y"})
    assert (code, out) == (0, "hello there/x y\n")


def test_commands_share_one_connection(ssh: SSHTransport) -> None:
    ssh.run("true", timeout=20)
    assert ssh._master_alive()
    ssh.close()
    assert not ssh._master_alive()


@pytest.mark.timeout(30)
def test_timeout_kills_the_command(ssh: SSHTransport) -> None:
    marker = f"plait-timeout-{uuid.uuid4().hex}"  # a command line to look for
    with pytest.raises(CommandTimeout, match=r"did not finish within 0\.5 s"):
        ssh.run(f"sleep 21; : {marker}", timeout=0.5)
    assert ssh.run("echo still fine", timeout=20)[1] == "still fine\n"
    # the remote side stops the command too (timeout(1) at the deadline, rounded up)
    code, _, _ = ssh.run(f"while pgrep -f '[:] {marker}' >/dev/null; do sleep 0.2; done",
                         timeout=10)
    assert code == 0, "the timed-out command still ran on the remote host"


def test_push_file(ssh: SSHTransport, tmp_path: Path) -> None:
    src = tmp_path / "job.sh"
    src.write_text("#!/bin/bash\necho pushed\n")
    src.chmod(0o750)
    dest = ssh.push_file(str(src), str(tmp_path / "remote" / "dir"))
    assert Path(dest).read_text() == src.read_text()
    assert oct(Path(dest).stat().st_mode & 0o777) == "0o750"


def test_unknown_host_key_is_refused_under_strict_policy(tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    # its own control socket: a shared connection opened by another test is not reused
    transport = transport_for(known_hosts=str(empty), control_path=str(tmp_path / "cm"))
    with pytest.raises(TransportFailed, match="Host key verification failed"):
        transport.run("true", timeout=20)
    accepting = transport_for(known_hosts=str(empty), host_key_policy="accept-new",
                              control_path=str(tmp_path / "cm"))
    try:
        assert accepting.run("echo ok", timeout=20)[1] == "ok\n"
        assert empty.read_text().strip(), "accept-new did not record the key"
    finally:
        accepting.close()


def test_wrong_key_says_what_to_check(tmp_path: Path) -> None:
    transport = transport_for(key_filename=str(tmp_path / "no-such-key"),
                              control_path=str(tmp_path / "cm"))
    with pytest.raises(TransportFailed, match="Permission denied") as info:
        transport.run("true", timeout=20)
    assert "known_hosts" in str(info.value) and "key" in str(info.value)


def test_description_round_trips(ssh: SSHTransport) -> None:
    from plait.transport import transport_from_description

    again = transport_from_description(ssh.describe())
    assert isinstance(again, SSHTransport)
    try:
        assert again.run("echo $PLAIT_GREETING", timeout=20)[1] == "hello there\n"
    finally:
        again.close()


@pytest.mark.timeout(90)
def test_pilot_on_slurm_submitted_over_ssh(tmp_path: Path) -> None:
    slurm()
    transport = transport_for(script_dir=str(tmp_path / "remote_scripts"))
    provider = SlurmProvider(worker_init=WORKER_INIT, exclusive=False, transport=transport,
                             status_polling_interval=5)
    config = Config(executors=[HighThroughputExecutor(label="slurm_ssh", provider=provider)],
                    run_dir=str(tmp_path / "runinfo"), strategy="none")

    @python_app
    def where(x: int) -> tuple[int, str]:
        import os

        return x * 2, os.environ["SLURM_JOB_ID"]

    plait.clear()
    try:
        with plait.load(config):
            results = [f.result(timeout=60) for f in [where(i) for i in range(6)]]
    finally:
        plait.clear()
        transport.close()
    assert [r[0] for r in results] == [0, 2, 4, 6, 8, 10]
    [job_id] = provider.resources
    assert {r[1] for r in results} == {job_id}
    # the script ran from the directory it was copied to over SSH
    assert any(p.suffix == ".submit" for p in (tmp_path / "remote_scripts").iterdir())
