"""TorqueProvider and PBSProProvider: blocks are PBS batch jobs (qsub / qstat / qdel).

Tested against stand-ins of the commands (tests/standins/), whose output follows the PBS
Professional and Torque manuals: no PBS server is packaged for Debian.

- Torque: ``qstat <ids>`` prints its default table; the fifth column is the state letter
  (qstat(1): C, E, H, Q, R, T, W, S). Finished jobs stay as C for keep_completed seconds.
- PBS Professional: ``qstat -x -f -F json <ids>`` (``-x`` includes finished jobs) gives each
  job's ``job_state`` and, once finished, ``Exit_status``; -29 is JOB_EXEC_KILL_WALLTIME.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from plait.launchers import AprunLauncher, Launcher, SingleNodeLauncher
from plait.providers._cluster import SCRIPT_BODY, ClusterProvider, LossCause, SchedulerError
from plait.providers._jobs import JobState
from plait.transport import Transport

S = JobState

#: qstat(1) job states, Torque and PBS Professional (B and X: job arrays, PBS Pro)
PBS_STATES: dict[str, JobState] = {
    "Q": S.PENDING, "W": S.PENDING, "T": S.PENDING, "M": S.PENDING,
    "R": S.RUNNING, "B": S.RUNNING, "E": S.RUNNING,
    "H": S.HELD, "S": S.HELD, "U": S.HELD,
    "C": S.COMPLETED, "F": S.COMPLETED, "X": S.COMPLETED,
}
#: PBS Professional's JOB_EXEC_KILL_WALLTIME exit status, and the state plait names it
PBS_WALLTIME_EXIT = -29
WALLTIME_STATE = "F(walltime)"
_UNKNOWN_JOB = re.compile(r"Unknown Job Id(?: Error)?\s+(\S+)")

TORQUE_TEMPLATE = """#!/bin/bash
#PBS -S /bin/bash
#PBS -N ${jobname}
#PBS -m n
#PBS -l walltime=${walltime}
#PBS -l nodes=${nodes}:ppn=${tasks_per_node}
#PBS -o ${stdout}
#PBS -e ${stderr}
${directives}${scheduler_options}
""" + SCRIPT_BODY

PBSPRO_TEMPLATE = """#!/bin/bash
#PBS -S /bin/bash
#PBS -N ${jobname}
#PBS -m n
#PBS -l walltime=${walltime}
#PBS -l select=${nodes}:ncpus=${cpus_per_node}${select_options}
#PBS -o ${stdout}
#PBS -e ${stderr}
${directives}${scheduler_options}
""" + SCRIPT_BODY


class TorqueProvider(ClusterProvider):
    """Submit blocks to Torque (Parsl's ``TorqueProvider``, same parameters and defaults).

    Args:
        account: ``#PBS -A``.
        queue: ``#PBS -q``.
        transport, and ClusterProvider's plait options (status_min_interval, …).
    """

    text_fields: ClassVar[tuple[str, ...]] = ("account", "queue")
    scheduler: ClassVar[str] = "torque"
    template: ClassVar[str] = TORQUE_TEMPLATE
    script_suffix: ClassVar[str] = ".submit"
    states: ClassVar[dict[str, JobState]] = PBS_STATES

    def __init__(
        self, account: str | None = None, queue: str | None = None,
        scheduler_options: str = "", worker_init: str = "", nodes_per_block: int = 1,
        init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 1,
        parallelism: float = 1, launcher: Launcher | None = None,
        walltime: str = "00:20:00", cmd_timeout: int = 120,
        transport: Transport | None = None, **options: Any,
    ) -> None:
        self.account, self.queue = account, queue
        super().__init__(
            self.scheduler, nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
            walltime, launcher if launcher is not None else AprunLauncher(),
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=transport,
            scheduler_options=scheduler_options, **options)

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        lines = [f"#PBS -{flag} {value}" for flag, value in (("A", self.account),
                                                             ("q", self.queue)) if value]
        return {"directives": "".join(f"{line}\n" for line in lines)}

    def _submit_command(self, script_path: str) -> str:
        return f"qsub {self._quote(script_path)}"

    def _job_id_from(self, stdout: str) -> str | None:
        lines = stdout.strip().splitlines()
        return lines[-1].strip() if lines else None

    def _status_command(self, job_ids: list[str]) -> str:
        return f"qstat {' '.join(job_ids)}"

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        # qstat exits non-zero when any id is unknown, and still lists the others
        if code != 0 and not _UNKNOWN_JOB.search(stderr):
            raise SchedulerError(f"qstat exited with {code}: {stderr.strip()[-500:]}")
        found = {}
        for line in stdout.splitlines():
            cols = line.split()
            if len(cols) >= 6 and not line.startswith(("Job", "---")):
                found[cols[0]] = (cols[4], "")
        return found

    def _cancel_command(self, job_ids: list[str]) -> str:
        return f"qdel {' '.join(job_ids)}"


class PBSProProvider(TorqueProvider):
    """Submit blocks to PBS Professional (Parsl's ``PBSProProvider``).

    Args:
        account, queue: ``#PBS -A`` / ``#PBS -q``.
        select_options: appended to ``-l select=<nodes>:ncpus=<cpus_per_node>``
            (e.g. ``":mpiprocs=4"``; a leading colon is added if missing).
        cpus_per_node: ``ncpus`` of each chunk.
        transport, and ClusterProvider's plait options.

    A block that PBS ends at its walltime (``Exit_status`` -29) is reported to its tasks as
    WalltimeExceeded.
    """

    text_fields: ClassVar[tuple[str, ...]] = ("account", "queue", "select_options")
    count_fields: ClassVar[tuple[str, ...]] = ("cpus_per_node",)
    scheduler: ClassVar[str] = "pbspro"
    template: ClassVar[str] = PBSPRO_TEMPLATE
    states: ClassVar[dict[str, JobState]] = {**PBS_STATES, WALLTIME_STATE: S.TIMEOUT}
    loss_causes: ClassVar[dict[str, LossCause]] = {WALLTIME_STATE: "walltime"}

    def __init__(
        self, account: str | None = None, queue: str | None = None,
        scheduler_options: str = "", select_options: str = "", worker_init: str = "",
        nodes_per_block: int = 1, cpus_per_node: int = 1, init_blocks: int = 1,
        min_blocks: int = 0, max_blocks: int = 1, parallelism: float = 1,
        launcher: Launcher | None = None, walltime: str = "00:20:00", cmd_timeout: int = 120,
        transport: Transport | None = None, **options: Any,
    ) -> None:
        self.select_options, self.cpus_per_node = select_options, cpus_per_node
        super().__init__(
            account, queue, scheduler_options, worker_init, nodes_per_block, init_blocks,
            min_blocks, max_blocks, parallelism,
            SingleNodeLauncher() if launcher is None else launcher, walltime,
            cmd_timeout, transport, **options)

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        select = self.select_options
        if select and not select.startswith(":"):
            select = f":{select}"
        return {**super()._template_values(tasks_per_node, job_name, script_path),
                "cpus_per_node": self.cpus_per_node, "select_options": select}

    def _status_command(self, job_ids: list[str]) -> str:
        return f"qstat -x -f -F json {' '.join(job_ids)}"

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        if code != 0 and not _UNKNOWN_JOB.search(stderr):
            raise SchedulerError(f"qstat exited with {code}: {stderr.strip()[-500:]}")
        if not stdout.strip():
            return {}
        try:
            jobs = json.loads(stdout).get("Jobs", {})
        except ValueError as exc:
            raise SchedulerError(f"qstat -F json printed something else: {exc}") from None
        found = {}
        for job_id, attrs in jobs.items():
            state = str(attrs.get("job_state", ""))
            detail = str(attrs.get("comment", ""))
            exit_status = attrs.get("Exit_status")
            if exit_status is not None:
                detail = f"Exit_status {exit_status}" + (f", {detail}" if detail else "")
                if state == "F" and str(exit_status) == str(PBS_WALLTIME_EXIT):
                    state = WALLTIME_STATE
            found[job_id] = (state, detail)
        return found
