"""FluxProvider: blocks are Flux batch jobs (flux batch / flux jobs / flux cancel).

Parsl runs tasks *inside* Flux with its FluxExecutor; this provider instead obtains blocks
from a Flux instance, as SlurmProvider does from Slurm, so the pilot executor runs on Flux
sites (a roadmap item). Tested against stand-ins following flux-batch(1), flux-jobs(1) and
flux-cancel(1): no flux-core for Debian 12. ``flux jobs`` is given the job ids, so it lists
those jobs in any state; its ``status`` field is PENDING, RUNNING, COMPLETED, FAILED,
CANCELED or TIMEOUT.
"""

from __future__ import annotations

from typing import Any, ClassVar

from plait.launchers import Launcher
from plait.providers._cluster import (
    SCRIPT_BODY,
    ClusterProvider,
    LossCause,
    SchedulerError,
    walltime_to_seconds,
)
from plait.providers._jobs import JobState
from plait.transport import Transport

S = JobState

#: flux-jobs(1), JOB STATUS: the status field, and the states it is made of
FLUX_STATES: dict[str, JobState] = {
    "PENDING": S.PENDING, "DEPEND": S.PENDING, "PRIORITY": S.PENDING, "SCHED": S.PENDING,
    "RUNNING": S.RUNNING, "RUN": S.RUNNING, "CLEANUP": S.RUNNING,
    "COMPLETED": S.COMPLETED, "FAILED": S.FAILED, "CANCELED": S.CANCELLED,
    "TIMEOUT": S.TIMEOUT,
}
FLUX_LOSS_CAUSES: dict[str, LossCause] = {"TIMEOUT": "walltime", "CANCELED": "cancelled"}

TEMPLATE = """#!/bin/bash
#flux: --job-name=${jobname}
#flux: -N ${nodes}
#flux: -t ${walltime_seconds}s
#flux: --output=${stdout}
#flux: --error=${stderr}
${directives}${scheduler_options}
""" + SCRIPT_BODY


class FluxProvider(ClusterProvider):
    """Submit blocks to a Flux instance with ``flux batch``.

    Args:
        queue: ``--queue``.
        cores_per_node: ``--cores-per-slot``.
        transport, and ClusterProvider's plait options.
    """

    text_fields: ClassVar[tuple[str, ...]] = ("queue",)
    count_fields: ClassVar[tuple[str, ...]] = ("cores_per_node",)
    scheduler: ClassVar[str] = "flux"
    template: ClassVar[str] = TEMPLATE
    states: ClassVar[dict[str, JobState]] = FLUX_STATES
    loss_causes: ClassVar[dict[str, LossCause]] = FLUX_LOSS_CAUSES

    def __init__(
        self, queue: str | None = None, nodes_per_block: int = 1,
        cores_per_node: int | None = None, init_blocks: int = 1, min_blocks: int = 0,
        max_blocks: int = 1, parallelism: float = 1, walltime: str = "00:10:00",
        scheduler_options: str = "", worker_init: str = "", cmd_timeout: int = 30,
        launcher: Launcher | None = None, transport: Transport | None = None,
        **options: Any,
    ) -> None:
        self.queue, self.cores_per_node = queue, cores_per_node
        super().__init__(
            "flux", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
            walltime, launcher,
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=transport,
            scheduler_options=scheduler_options, **options)

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        lines = []
        if self.queue:
            lines.append(f"#flux: --queue={self.queue}")
        if self.cores_per_node:
            lines.append(f"#flux: --cores-per-slot={self.cores_per_node}")
        return {"walltime_seconds": walltime_to_seconds(self.walltime),
                "directives": "".join(f"{line}\n" for line in lines)}

    def _submit_command(self, script_path: str) -> str:
        return f"flux batch {self._quote(script_path)}"

    def _job_id_from(self, stdout: str) -> str | None:
        lines = stdout.strip().splitlines()
        return lines[-1].strip() if lines else None

    def _status_command(self, job_ids: list[str]) -> str:
        return ("flux jobs --no-header --format='{id.f58}|{status}|{exception.type}' "
                + " ".join(job_ids))

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        if code != 0 and "unknown job id" not in stderr.lower():
            raise SchedulerError(f"flux jobs exited with {code}: {stderr.strip()[-500:]}")
        found = {}
        for line in stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) == 3:
                found[parts[0]] = (parts[1], parts[2])
        return found

    def _cancel_command(self, job_ids: list[str]) -> str:
        return f"flux cancel {' '.join(job_ids)}"
