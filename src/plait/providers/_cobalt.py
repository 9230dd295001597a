"""CobaltProvider: blocks are Cobalt jobs (qsub / qstat / qdel), as at ALCF before 2023.

Parsl dropped its CobaltProvider; plait keeps it (a roadmap scheduler). Tested against
stand-ins following ALCF's Cobalt job-control documentation: ``qsub -n N -t MINUTES
[-A project] [-q queue] --mode script SCRIPT`` prints the job id; ``qstat <ids>`` prints a
table with JobID and State columns (queued, starting, running, exiting, killing, *_hold);
a job that ended is no longer listed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from plait.launchers import Launcher
from plait.providers._cluster import (
    SCRIPT_BODY,
    ClusterProvider,
    SchedulerError,
    walltime_to_minutes,
)
from plait.providers._jobs import JobState
from plait.transport import Transport

S = JobState

COBALT_STATES: dict[str, JobState] = {
    "queued": S.PENDING, "starting": S.PENDING,
    "running": S.RUNNING, "exiting": S.RUNNING, "killing": S.RUNNING,
    "user_hold": S.HELD, "admin_hold": S.HELD, "dep_hold": S.HELD, "maxrun_hold": S.HELD,
    "dep_fail": S.FAILED,
}

TEMPLATE = """#!/bin/bash
# Cobalt block ${jobname}: ${nodes} node(s), ${walltime_minutes} minute(s)
${scheduler_options}
""" + SCRIPT_BODY


class CobaltProvider(ClusterProvider):
    """Submit blocks to Cobalt (the parameters of Parsl's former ``CobaltProvider``).

    Args:
        account: ``-A``; queue: ``-q``.
        scheduler_options: extra qsub options (Cobalt takes them on the command line).
        transport, and ClusterProvider's plait options.
    """

    text_fields: ClassVar[tuple[str, ...]] = ("account", "queue")
    scheduler: ClassVar[str] = "cobalt"
    template: ClassVar[str] = TEMPLATE
    states: ClassVar[dict[str, JobState]] = COBALT_STATES

    def __init__(
        self, account: str | None = None, queue: str | None = None,
        scheduler_options: str = "", worker_init: str = "", nodes_per_block: int = 1,
        init_blocks: int = 0, min_blocks: int = 0, max_blocks: int = 1,
        parallelism: float = 1, walltime: str = "00:10:00", cmd_timeout: int = 10,
        launcher: Launcher | None = None, transport: Transport | None = None,
        **options: Any,
    ) -> None:
        self.account, self.queue = account, queue
        super().__init__(
            "cobalt", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
            walltime, launcher,
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=transport,
            scheduler_options=scheduler_options, **options)

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        return {"walltime_minutes": walltime_to_minutes(self.walltime),
                # Cobalt reads options from the command line, not the script
                "scheduler_options": ""}

    def _submit_command(self, script_path: str) -> str:
        parts = ["qsub", "-n", str(self.nodes_per_block), "-t",
                 str(walltime_to_minutes(self.walltime))]
        if self.account:
            parts += ["-A", self._quote(self.account)]
        if self.queue:
            parts += ["-q", self._quote(self.queue)]
        parts += ["-O", self._quote(script_path)]
        if self.scheduler_options.strip():
            parts.append(self.scheduler_options.strip())
        parts += ["--mode", "script", self._quote(script_path)]
        return " ".join(parts)

    def _job_id_from(self, stdout: str) -> str | None:
        lines = [ln.strip() for ln in stdout.strip().splitlines() if ln.strip()]
        return lines[-1] if lines and lines[-1].isdigit() else None

    def _status_command(self, job_ids: list[str]) -> str:
        return f"qstat {' '.join(job_ids)}"

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        if code != 0 and stdout.strip() == "" and stderr.strip():
            raise SchedulerError(f"qstat exited with {code}: {stderr.strip()[-500:]}")
        lines = [ln for ln in stdout.splitlines() if ln.strip()]
        header = next((ln.split() for ln in lines if ln.split()[:1] == ["JobID"]), None)
        if header is None or "State" not in header:
            return {}
        id_col, state_col = header.index("JobID"), header.index("State")
        found = {}
        for line in lines:
            cols = line.split()
            if cols and cols[0].isdigit() and len(cols) > state_col:
                found[cols[id_col]] = (cols[state_col], "")
        return found

    def _cancel_command(self, job_ids: list[str]) -> str:
        return f"qdel {' '.join(job_ids)}"
