"""MPIExecutor: tasks get nodes and ranks from their resource specification, and run real
MPI programs (Open MPI's mpiexec, installed by make test) through $PARSL_MPI_PREFIX."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, bash_app, python_app
from plait.errors import ConfigurationError, InvalidResourceSpecification
from plait.executors import MPIExecutor
from plait.executors.pilot._mpi_task import MPIRequest, compose_prefixes, parse_request
from plait.launchers import SimpleLauncher, SingleNodeLauncher
from plait.providers import LocalProvider

# Open MPI refuses to start as root without these; CI runs the tests as root.
ROOT_OK = "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"


def test_requests_are_completed_or_refused_with_the_key() -> None:
    assert parse_request({"num_ranks": 4}) == MPIRequest(1, 4, 4)
    assert parse_request({"num_nodes": 2, "ranks_per_node": 3}) == MPIRequest(2, 3, 6)
    assert parse_request({"num_nodes": 2, "num_ranks": 3}) == MPIRequest(2, 2, 3)
    for spec, key in [({}, "parsl_resource_specification"), ({"cores": 2}, "cores"),
                      ({"num_nodes": 2}, "num_ranks"), ({"num_ranks": 0}, "num_ranks"),
                      ({"num_nodes": 1, "ranks_per_node": 2, "num_ranks": 5}, "num_ranks")]:
        with pytest.raises(InvalidResourceSpecification, match=key):
            parse_request(spec)


def test_prefixes_per_launcher_and_mpi_flavour() -> None:
    req = MPIRequest(2, 2, 4, "--bind-to core")
    openmpi = compose_prefixes(req, ["a", "b"], "openmpi")
    assert openmpi["mpiexec"] == "mpiexec -n 4 --host a:2,b:2 --bind-to core"
    mpich = compose_prefixes(req, ["a", "b"], "mpich")
    assert mpich["mpiexec"] == "mpiexec -n 4 -ppn 2 -hosts a,b --bind-to core"
    assert mpich["srun"].startswith("srun -N 2 -n 4 ")
    assert mpich["aprun"].startswith("aprun -n 4 -N 2 ")


def test_constructor_checks() -> None:
    with pytest.raises(ConfigurationError, match="SimpleLauncher") as info:
        MPIExecutor(provider=LocalProvider(launcher=SingleNodeLauncher()))
    assert info.value.field == "provider"
    with pytest.raises(ConfigurationError, match="mpi_launcher"):
        MPIExecutor(mpi_launcher="mpirun-ish")
    ex = MPIExecutor(max_workers_per_block=2)
    assert isinstance(ex.provider.launcher, SimpleLauncher)
    assert ex.max_workers_per_node == 2 and ex.encrypted is False


@pytest.fixture
def mpi(tmp_path: Path) -> Iterator[plait.DataFlowKernel]:
    nodes = "export PLAIT_MPI_NODELIST=$(hostname),$(hostname)-twin"
    provider = LocalProvider(launcher=SimpleLauncher(), worker_init=f"{ROOT_OK}; {nodes}")
    plait.clear()
    dfk = plait.load(Config(executors=[MPIExecutor(max_workers_per_block=2, provider=provider)],
                            run_dir=str(tmp_path / "runinfo"), strategy="none"))
    try:
        yield dfk
    finally:
        dfk.cleanup()
        plait.clear()


@bash_app
def ranks(out: str, parsl_resource_specification: dict[str, Any] | None = None) -> str:
    return f"$PARSL_MPI_PREFIX hostname > {out}"


@python_app
def allocation(seconds: float, parsl_resource_specification: dict[str, Any] | None = None
               ) -> dict[str, str]:
    import os
    import time

    time.sleep(seconds)  # workload: hold the node while the other task allocates
    return {k: v for k, v in os.environ.items() if k.startswith("PARSL_")}


@pytest.mark.timeout(90)
def test_bash_app_runs_mpiexec_with_the_ranks_asked(mpi: Any, tmp_path: Path) -> None:
    out = tmp_path / "hosts.txt"
    # The second "node" is a name only; one node holds both ranks on this host.
    fut = ranks(str(out), parsl_resource_specification={"num_nodes": 1, "num_ranks": 2})
    assert fut.result(timeout=60) == 0
    assert out.read_text().split() == [os.uname().nodename] * 2


@pytest.mark.timeout(90)
def test_concurrent_tasks_get_different_nodes(mpi: Any) -> None:
    spec = {"num_nodes": 1, "ranks_per_node": 2}
    a = allocation(1.0, parsl_resource_specification=spec)
    b = allocation(1.0, parsl_resource_specification=spec)
    envs = [a.result(timeout=60), b.result(timeout=60)]
    assert {e["PARSL_MPI_NODELIST"] for e in envs} == {
        os.uname().nodename, f"{os.uname().nodename}-twin"}
    assert all(e["PARSL_NUM_RANKS"] == "2" and "mpiexec -n 2" in e["PARSL_MPI_PREFIX"]
               for e in envs)
    with pytest.raises(InvalidResourceSpecification, match="asks for 3 nodes"):
        allocation(0, parsl_resource_specification={"num_nodes": 3, "num_ranks": 3}
                   ).result(timeout=60)
    with pytest.raises(InvalidResourceSpecification, match="parsl_resource_specification"):
        allocation(0).result(timeout=60)


@bash_app
def node_names(out: str, parsl_resource_specification: dict[str, Any] | None = None) -> str:
    # single quotes: each rank expands its own node's name
    return f"$PARSL_MPI_PREFIX bash -c 'echo $SLURMD_NODENAME' > {out}"


@pytest.mark.timeout(180)
def test_an_mpi_task_spans_two_nodes_of_a_slurm_block(tmp_path: Path) -> None:
    """On the real Slurm of services/slurm.sh: a 2-node block, one manager, and a task whose
    srun prefix starts one rank on each node."""
    from plait.providers import SlurmProvider
    from slurm_jobs import WORKER_INIT, slurm

    slurm()
    provider = SlurmProvider(nodes_per_block=2, launcher=SimpleLauncher(), exclusive=False,
                             worker_init=WORKER_INIT, walltime="00:05:00",
                             status_polling_interval=5)
    executor = MPIExecutor(provider=provider, mpi_launcher="srun", heartbeat_threshold=10)
    out = tmp_path / "ranks.txt"
    plait.clear()
    with plait.load(Config(executors=[executor], run_dir=str(tmp_path / "runinfo"),
                           strategy="simple")):
        fut = node_names(str(out), parsl_resource_specification={"num_nodes": 2,
                                                                 "ranks_per_node": 1})
        assert fut.result(timeout=150) == 0
    names = out.read_text().split()
    assert len(names) == 2 and len(set(names)) == 2 and set(names) <= {"n1", "n2", "n3"}
