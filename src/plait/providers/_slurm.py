"""SlurmProvider: blocks are Slurm batch jobs (sbatch / squeue / scancel).

Status comes from one ``squeue --states=all`` for every live job: it works without
slurmdbd (where ``sacct`` fails) and still lists jobs that ended within ``MinJobAge``
(300 s by default) with their final state, so TIMEOUT, NODE_FAIL or CANCELLED are seen.
A job squeue no longer knows ended long ago.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from plait._validate import check_bool, check_int, check_str, fail
from plait.launchers import Launcher
from plait.providers._cluster import (
    SCRIPT_BODY,
    ClusterProvider,
    LossCause,
    SchedulerError,
    walltime_to_minutes,
)
from plait.providers._jobs import JobState
from plait.transport import Transport

S = JobState

#: every state in squeue(1)'s JOB STATE CODES, long form
SLURM_STATES: dict[str, JobState] = {
    "PENDING": S.PENDING, "CONFIGURING": S.PENDING, "REQUEUED": S.PENDING,
    "REQUEUE_FED": S.PENDING, "RESIZING": S.PENDING,
    "RUNNING": S.RUNNING, "COMPLETING": S.RUNNING, "SIGNALING": S.RUNNING,
    "STAGE_OUT": S.RUNNING,
    "SUSPENDED": S.HELD, "STOPPED": S.HELD, "REQUEUE_HOLD": S.HELD, "RESV_DEL_HOLD": S.HELD,
    "COMPLETED": S.COMPLETED,
    "CANCELLED": S.CANCELLED,
    "FAILED": S.FAILED, "BOOT_FAIL": S.FAILED, "NODE_FAIL": S.FAILED,
    "OUT_OF_MEMORY": S.FAILED, "REVOKED": S.FAILED, "SPECIAL_EXIT": S.FAILED,
    "TIMEOUT": S.TIMEOUT, "DEADLINE": S.TIMEOUT, "PREEMPTED": S.TIMEOUT,
}

SLURM_LOSS_CAUSES: dict[str, LossCause] = {
    "TIMEOUT": "walltime", "DEADLINE": "walltime", "NODE_FAIL": "node_failure",
    "BOOT_FAIL": "node_failure", "PREEMPTED": "node_failure", "CANCELLED": "cancelled",
    "REVOKED": "cancelled",
}

TEMPLATE = """#!/bin/bash
#SBATCH --job-name=${jobname}
#SBATCH --output=${stdout}
#SBATCH --error=${stderr}
#SBATCH --nodes=${nodes}
#SBATCH --time=${walltime_minutes}
#SBATCH --ntasks-per-node=${tasks_per_node}
${directives}${scheduler_options}
${exports}""" + SCRIPT_BODY


class SlurmProvider(ClusterProvider):
    """Submit blocks to Slurm (Parsl's ``SlurmProvider``, same parameters and defaults).

    Args:
        partition, account, qos, constraint, clusters, gres: each adds its ``#SBATCH`` line.
        nodes_per_block: nodes per block (``--nodes``).
        cores_per_node: ``--cpus-per-task`` and ``PARSL_CORES`` in the job.
        mem_per_node: GB; ``--mem=<N>g`` and ``PARSL_MEMORY_GB`` in the job.
        gpus_per_node: ``--gpus-per-node``.
        walltime: ``"HH:MM:SS"``, sent in whole minutes (rounded up).
        exclusive: ``--exclusive`` (whole nodes), the default as in Parsl.
        regex_job_id: finds the job id in sbatch's output (group ``id``).
        status_batch_size: jobs per squeue command; None (plait's default) asks about
            every live job in one command. Parsl's default is 50.
        transport: where sbatch runs; :class:`~plait.transport.SSHTransport` for a login node.
        status_min_interval, submit_min_interval, drain_margin: see ``ClusterProvider``.

    A rejected submission (bad partition, invalid walltime) raises ``SubmitException``
    carrying sbatch's own message, which the executor puts on the waiting tasks' futures.
    """

    scheduler: ClassVar[str] = "slurm"
    template: ClassVar[str] = TEMPLATE
    states: ClassVar[dict[str, JobState]] = SLURM_STATES
    loss_causes: ClassVar[dict[str, LossCause]] = SLURM_LOSS_CAUSES
    transient_errors: ClassVar[tuple[str, ...]] = (
        "Socket timed out", "Unable to contact slurm controller",
        "Transport endpoint is not connected", "Zero Bytes were transmitted")

    def __init__(
        self, partition: str | None = None, account: str | None = None,
        qos: str | None = None, constraint: str | None = None, clusters: str | None = None,
        nodes_per_block: int = 1, cores_per_node: int | None = None,
        mem_per_node: int | None = None, gpus_per_node: int | None = None,
        gres: str | None = None, init_blocks: int = 1, min_blocks: int = 0,
        max_blocks: int = 1, parallelism: float = 1, walltime: str = "00:10:00",
        scheduler_options: str = "", regex_job_id: str = r"Submitted batch job (?P<id>\S*)",
        worker_init: str = "", cmd_timeout: int = 10, status_batch_size: int | None = None,
        exclusive: bool = True, launcher: Launcher | None = None,
        transport: Transport | None = None, status_polling_interval: float = 60.0,
        status_min_interval: float = 1.0, submit_min_interval: float = 0.2,
        drain_margin: float | None = None,
    ) -> None:
        self.partition, self.account, self.qos = partition, account, qos
        self.constraint, self.clusters, self.gres = constraint, clusters, gres
        self.cores_per_node, self.mem_per_node = cores_per_node, mem_per_node
        self.gpus_per_node = gpus_per_node
        self.exclusive = exclusive
        self.regex_job_id = regex_job_id
        self.status_batch_size = status_batch_size
        super().__init__(
            "slurm", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
            walltime, launcher,
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=transport,
            status_polling_interval=status_polling_interval,
            scheduler_options=scheduler_options, status_min_interval=status_min_interval,
            submit_min_interval=submit_min_interval, drain_margin=drain_margin)

    def validate(self) -> None:
        super().validate()
        for field in ("partition", "account", "qos", "constraint", "clusters", "gres"):
            check_str(field, getattr(self, field), none=True, owner="SlurmProvider")
        for field in ("cores_per_node", "mem_per_node", "gpus_per_node"):
            check_int(field, getattr(self, field), low=1, none=True, owner="SlurmProvider")
        check_int("status_batch_size", self.status_batch_size, low=1, none=True,
                  owner="SlurmProvider")
        check_bool("exclusive", self.exclusive, owner="SlurmProvider")
        check_str("regex_job_id", self.regex_job_id, owner="SlurmProvider")
        if "(?P<id>" not in self.regex_job_id:
            raise fail("regex_job_id", self.regex_job_id,
                       "a regular expression with a group named id, (?P<id>...)",
                       "SlurmProvider")

    def cleanup_kwargs(self) -> dict[str, Any]:
        return {"clusters": self.clusters}

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        lines = []
        for flag, value in (("partition", self.partition), ("account", self.account),
                            ("qos", self.qos), ("constraint", self.constraint),
                            ("clusters", self.clusters), ("gres", self.gres),
                            ("gpus-per-node", self.gpus_per_node)):
            if value:
                lines.append(f"#SBATCH --{flag}={value}")
        if self.exclusive:
            lines.append("#SBATCH --exclusive")
        exports = []
        if self.mem_per_node:
            lines.append(f"#SBATCH --mem={self.mem_per_node}g")
            exports.append(f"export PARSL_MEMORY_GB={self.mem_per_node}")
        if self.cores_per_node:
            lines.append(f"#SBATCH --cpus-per-task={self.cores_per_node // tasks_per_node}")
            exports.append(f"export PARSL_CORES={self.cores_per_node}")
        return {"walltime_minutes": walltime_to_minutes(self.walltime),
                "directives": "".join(f"{line}\n" for line in lines),
                "exports": "".join(f"{line}\n" for line in exports)}

    def _clusters_flag(self) -> str:
        return f" --clusters={self._quote(self.clusters)}" if self.clusters else ""

    def _submit_command(self, script_path: str) -> str:
        return f"sbatch{self._clusters_flag()} {self._quote(script_path)}"

    def _job_id_from(self, stdout: str) -> str | None:
        match = re.search(self.regex_job_id, stdout)
        return match.group("id").split(";")[0] if match else None

    def _status_command(self, job_ids: list[str]) -> str:
        return (f"squeue{self._clusters_flag()} --noheader --states=all "
                f"--format='%i|%T|%r' --jobs={','.join(job_ids)}")

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        if code != 0:
            if "Invalid job id" in stderr:  # none of the ids is known any more
                return {}
            raise SchedulerError(f"squeue exited with {code}: {stderr.strip()[-500:]}")
        found = {}
        for line in stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) != 3:
                continue  # "CLUSTER: name" headers of --clusters
            job_id, state, reason = parts
            state = state.split()[0] if state else ""  # "CANCELLED by 0" in some versions
            if state == "COMPLETING" and reason == "TimeLimit":
                # ended at its walltime; squeue says TIMEOUT only after KillWait (30 s)
                state = "TIMEOUT"
            found[job_id] = (state, "" if reason in ("None", "(null)") else reason)
        return found

    def _cancel_command(self, job_ids: list[str]) -> str:
        return f"scancel{self._clusters_flag()} {' '.join(job_ids)}"

    def __repr__(self) -> str:
        return (f"SlurmProvider(partition={self.partition!r}, nodes_per_block="
                f"{self.nodes_per_block}, walltime={self.walltime!r}, "
                f"transport={self.transport!r})")
