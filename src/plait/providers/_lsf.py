"""LSFProvider: blocks are IBM Spectrum LSF jobs (bsub / bjobs / bkill).

Tested against stand-ins that follow the LSF 10.1 command reference (no LSF for Debian):
``bsub`` answers "Job <123> is submitted to queue <normal>."; ``bjobs -noheader -o
"jobid stat exit_reason delimiter='|'"`` gives one line per job; a job LSF no longer knows
is "Job <123> is not found" on stderr. An EXIT job's exit reason TERM_RUNLIMIT means it hit
its run limit (``#BSUB -W``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

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

#: bjobs(1) job states
LSF_STATES: dict[str, JobState] = {
    "PEND": S.PENDING, "PROV": S.PENDING, "WAIT": S.PENDING,
    "RUN": S.RUNNING,
    "PSUSP": S.HELD, "USUSP": S.HELD, "SSUSP": S.HELD,
    "DONE": S.COMPLETED,
    "EXIT": S.FAILED, "EXIT(TERM_RUNLIMIT)": S.TIMEOUT, "EXIT(TERM_OWNER)": S.CANCELLED,
    "EXIT(TERM_ADMIN)": S.CANCELLED, "EXIT(TERM_FORCE_OWNER)": S.CANCELLED,
    "EXIT(TERM_FORCE_ADMIN)": S.CANCELLED,
    "ZOMBI": S.FAILED,
    # UNKWN: the execution host stopped answering; LSF does not know if it runs
}
LSF_LOSS_CAUSES: dict[str, LossCause] = {
    "EXIT(TERM_RUNLIMIT)": "walltime", "EXIT(TERM_OWNER)": "cancelled",
    "EXIT(TERM_ADMIN)": "cancelled", "EXIT(TERM_FORCE_OWNER)": "cancelled",
    "EXIT(TERM_FORCE_ADMIN)": "cancelled", "ZOMBI": "node_failure",
}
_SUBMITTED = re.compile(r"Job <(\d+)> is submitted")

TEMPLATE = """#!/bin/bash
#BSUB -J ${jobname}
#BSUB -W ${walltime_minutes}
#BSUB -o ${stdout}
#BSUB -e ${stderr}
${directives}${scheduler_options}
""" + SCRIPT_BODY


class LSFProvider(ClusterProvider):
    """Submit blocks to LSF (Parsl's ``LSFProvider``, same parameters and defaults).

    Args:
        cores_per_block: cores to ask for when ``request_by_nodes=False`` (``-n``).
        cores_per_node: with ``request_by_nodes=False``, ``span[ptile=N]``.
        project: ``#BSUB -P``; queue: ``#BSUB -q``.
        bsub_redirection: submit as ``bsub < script`` (sites that require it).
        request_by_nodes: ask for ``-nnodes <nodes_per_block>`` (IBM CSM sites such as
            Summit); else cores.
        transport, and ClusterProvider's plait options.
    """

    text_fields: ClassVar[tuple[str, ...]] = ("project", "queue")
    count_fields: ClassVar[tuple[str, ...]] = ("cores_per_block", "cores_per_node")
    flag_fields: ClassVar[tuple[str, ...]] = ("bsub_redirection", "request_by_nodes")
    scheduler: ClassVar[str] = "lsf"
    template: ClassVar[str] = TEMPLATE
    states: ClassVar[dict[str, JobState]] = LSF_STATES
    loss_causes: ClassVar[dict[str, LossCause]] = LSF_LOSS_CAUSES

    def __init__(
        self, nodes_per_block: int = 1, cores_per_block: int | None = None,
        cores_per_node: int | None = None, init_blocks: int = 1, min_blocks: int = 0,
        max_blocks: int = 1, parallelism: float = 1, walltime: str = "00:10:00",
        scheduler_options: str = "", worker_init: str = "", project: str | None = None,
        queue: str | None = None, cmd_timeout: int = 120, bsub_redirection: bool = False,
        request_by_nodes: bool = True, launcher: Launcher | None = None,
        transport: Transport | None = None, **options: Any,
    ) -> None:
        self.cores_per_block, self.cores_per_node = cores_per_block, cores_per_node
        self.project, self.queue = project, queue
        self.bsub_redirection, self.request_by_nodes = bsub_redirection, request_by_nodes
        super().__init__(
            "lsf", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
            walltime, launcher,
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=transport,
            scheduler_options=scheduler_options, **options)

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        lines = []
        if self.request_by_nodes:
            lines.append(f"#BSUB -nnodes {self.nodes_per_block}")
        elif self.cores_per_block:
            lines.append(f"#BSUB -n {self.cores_per_block}")
            if self.cores_per_node:
                lines.append(f'#BSUB -R "span[ptile={self.cores_per_node}]"')
        if self.project:
            lines.append(f"#BSUB -P {self.project}")
        if self.queue:
            lines.append(f"#BSUB -q {self.queue}")
        return {"walltime_minutes": walltime_to_minutes(self.walltime),
                "directives": "".join(f"{line}\n" for line in lines)}

    def _submit_command(self, script_path: str) -> str:
        sep = " < " if self.bsub_redirection else " "
        return f"bsub{sep}{self._quote(script_path)}"

    def _job_id_from(self, stdout: str) -> str | None:
        match = _SUBMITTED.search(stdout)
        return match.group(1) if match else None

    def _status_command(self, job_ids: list[str]) -> str:
        return ("bjobs -noheader -o \"jobid stat exit_reason delimiter='|'\" "
                + " ".join(job_ids))

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        if code != 0 and "is not found" not in stderr:
            raise SchedulerError(f"bjobs exited with {code}: {stderr.strip()[-500:]}")
        found = {}
        for line in stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) != 3:
                continue
            job_id, stat, reason = parts
            named = f"EXIT({reason.split()[0]})" if reason.strip() else ""
            if stat == "EXIT" and named in LSF_STATES:  # other reasons stay plain EXIT
                stat = named
            found[job_id] = (stat, "" if reason in ("-", "") else reason)
        return found

    def _cancel_command(self, job_ids: list[str]) -> str:
        return f"bkill {' '.join(job_ids)}"
