"""AdHocProvider: one block per SSH host, each a real sshd of services/sshd.sh on its own
loopback address (127.0.0.2 and 127.0.0.3 stand for two hosts)."""

from __future__ import annotations

from pathlib import Path

import pytest

import plait
import slurm_tasks as t
from plait import Config, python_app
from plait._errors import ConfigurationError
from plait.executors import HighThroughputExecutor
from plait.providers import AdHocProvider, JobState, SubmitException
from slurm_jobs import WORKER_INIT
from transport.test_ssh import transport_for


@pytest.fixture
def hosts() -> list:  # type: ignore[type-arg]
    channels = [transport_for("sshd-b"), transport_for("sshd-c")]
    yield channels
    for channel in channels:
        channel.close()


@pytest.mark.timeout(90)
def test_one_block_per_host_runs_a_workflow(hosts: list, tmp_path: Path) -> None:  # type: ignore[type-arg]
    provider = AdHocProvider(channels=hosts, worker_init=WORKER_INIT, status_min_interval=0)
    assert (provider.init_blocks, provider.max_blocks) == (2, 2)
    ex = HighThroughputExecutor(label="adhoc", provider=provider, max_workers_per_node=1,
                                heartbeat_period=1, heartbeat_threshold=5)
    where = python_app(t.ssh_server_address)
    plait.clear()
    try:
        with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"),
                               strategy="none")):
            # both managers must be connected before the tasks go, or one host takes all
            from waiting import wait_until

            wait_until(lambda: len(ex.connected_managers()) == 2, 60, "two managers")
            results = [f.result(timeout=60) for f in [where(i) for i in range(20)]]
    finally:
        plait.clear()
    assert sorted(r[0] for r in results) == list(range(20))
    assert {r[1] for r in results} == {"127.0.0.2", "127.0.0.3"}
    # cleanup ended both blocks' process groups on their hosts
    assert all(s.terminal for s in provider.status(list(provider.resources)))


@pytest.mark.timeout(60)
def test_status_cancel_and_no_third_block(hosts: list, tmp_path: Path) -> None:  # type: ignore[type-arg]
    provider = AdHocProvider(channels=hosts, status_min_interval=0)
    provider.script_dir = str(tmp_path)
    jobs = [provider.submit("sleep 300", 1, f"plait.b{i}") for i in range(2)]
    assert [j.split(":")[0] for j in jobs] == ["0", "1"]
    with pytest.raises(SubmitException, match="each of the 2 hosts already runs a block"):
        provider.submit("sleep 300", 1, "plait.third")
    assert [s.state for s in provider.status(jobs)] == [JobState.RUNNING] * 2
    assert provider.cancel(jobs) == [True, True]
    assert [s.state for s in provider.status(jobs)] == [JobState.CANCELLED] * 2
    done = provider.submit("exit 3", 1, "plait.fails")  # a host is free again
    from waiting import wait_until

    status = wait_until(lambda: provider.status([done])[0].terminal and
                        provider.status([done])[0], 30, "the failing block to end")
    assert status.state is JobState.FAILED and status.exit_code == 3


def test_needs_hosts() -> None:
    with pytest.raises(ConfigurationError, match="channels"):
        AdHocProvider(channels=[])
