"""CondorProvider: blocks are HTCondor jobs (condor_submit / condor_q / condor_rm).

Tested against stand-ins that follow the HTCondor manual (no HTCondor for Debian 12).
``condor_submit`` ends with "N job(s) submitted to cluster C."; ``condor_q <ids> -af:jt
JobStatus RemoveReason`` prints "C.P<tab>status<tab>reason" per job; a job that left the queue
is in ``condor_history`` with its last JobStatus. The walltime is enforced with
``periodic_remove``, so a job removed by it is a walltime loss.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from plait._validate import check_number, check_str_list, check_str_map
from plait.launchers import Launcher
from plait.providers._cluster import (
    PLACEHOLDER_COMMAND,
    SCRIPT_BODY,
    ClusterProvider,
    LossCause,
    SchedulerError,
    walltime_to_seconds,
    worker_init_lines,
)
from plait.providers._jobs import JobState, JobStatus
from plait.transport import Transport

S = JobState

#: JobStatus codes of the HTCondor manual (job ClassAd attributes)
CONDOR_STATES: dict[str, JobState] = {
    "1": S.PENDING,    # Idle
    "2": S.RUNNING,    # Running
    "3": S.CANCELLED,  # Removed
    "4": S.COMPLETED,  # Completed
    "5": S.HELD,       # Held
    "6": S.RUNNING,    # Transferring Output
    "7": S.HELD,       # Suspended
    "3(walltime)": S.TIMEOUT,
}
CONDOR_LOSS_CAUSES: dict[str, LossCause] = {"3(walltime)": "walltime", "3": "cancelled"}
_SUBMITTED = re.compile(r"submitted to cluster (\d+)")

TEMPLATE = """# HTCondor submit description for ${jobname}
universe = vanilla
executable = /bin/bash
arguments = ${job_script}
output = ${stdout}
error = ${stderr}
log = ${condor_log}
should_transfer_files = YES
when_to_transfer_output = ON_EXIT
transfer_input_files = ${transfer_input_files}
request_cpus = ${cores}
${memory}${requirements}environment = "${environment}"
# walltime ${walltime}: remove the job once it has run that long
periodic_remove = (JobStatus == 2) && ((time() - EnteredCurrentStatus) > ${walltime_seconds})
leave_in_queue = False
${project}${scheduler_options}
queue 1
"""

SCRIPT = """#!/bin/bash
""" + SCRIPT_BODY


class CondorProvider(ClusterProvider):
    """Submit blocks to HTCondor (Parsl's ``CondorProvider``, same parameters and defaults).

    Args:
        cores_per_slot: ``request_cpus`` (also the executor's cores_per_node).
        mem_per_slot: GB; ``request_memory`` in MB.
        environment: variables set in the job.
        project: ``+ProjectName``.
        transfer_input_files: files HTCondor copies to the slot.
        requirements: a ClassAd expression for ``requirements``.
        cmd_chunk_size: jobs per condor_q/condor_rm command.
        transport, and ClusterProvider's plait options.
    """

    text_fields: ClassVar[tuple[str, ...]] = ("project", "requirements")
    count_fields: ClassVar[tuple[str, ...]] = ("cores_per_slot", "cmd_chunk_size")
    scheduler: ClassVar[str] = "condor"
    template: ClassVar[str] = TEMPLATE
    states: ClassVar[dict[str, JobState]] = CONDOR_STATES
    loss_causes: ClassVar[dict[str, LossCause]] = CONDOR_LOSS_CAUSES

    def __init__(
        self, nodes_per_block: int = 1, cores_per_slot: int | None = None,
        mem_per_slot: float | None = None, init_blocks: int = 1, min_blocks: int = 0,
        max_blocks: int = 1, parallelism: float = 1,
        environment: dict[str, str] | None = None, project: str = "",
        scheduler_options: str = "", transfer_input_files: list[str] | None = None,
        walltime: str = "00:10:00", worker_init: str = "", launcher: Launcher | None = None,
        requirements: str = "", cmd_timeout: int = 60, cmd_chunk_size: int = 100,
        transport: Transport | None = None, **options: Any,
    ) -> None:
        owner = "CondorProvider"
        check_str_map("environment", environment, owner, none=True)
        check_str_list("transfer_input_files", transfer_input_files, none=True, owner=owner)
        check_number("mem_per_slot", mem_per_slot, low=0, strict=True, none=True, owner=owner,
                     kind="a number of GB")
        self.cores_per_slot, self.mem_per_slot = cores_per_slot, mem_per_slot
        self.cores_per_node, self.mem_per_node = cores_per_slot, mem_per_slot
        self.environment = dict(environment or {})
        self.project, self.requirements = project, requirements
        self.transfer_input_files = list(transfer_input_files or [])
        self.cmd_chunk_size = self.status_batch_size = cmd_chunk_size
        super().__init__(
            "condor", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
            walltime, launcher,
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=transport,
            scheduler_options=scheduler_options, **options)

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        env = " ".join(f"{k}='{v}'" for k, v in self.environment.items())
        if self.cores_per_slot:
            env = f"{env} PARSL_CORES={self.cores_per_slot}".strip()
        if self.mem_per_slot:
            env = f"{env} PARSL_MEMORY_GB={self.mem_per_slot}".strip()
        return {
            "job_script": f"{script_path}.sh", "condor_log": f"{script_path}.log",
            "transfer_input_files": ", ".join([f"{script_path}.sh",
                                               *self.transfer_input_files]),
            "cores": self.cores_per_slot or 1,
            "memory": (f"request_memory = {int(self.mem_per_slot * 1024)}\n"
                       if self.mem_per_slot else ""),
            "requirements": (f"requirements = {self.requirements}\n"
                             if self.requirements else ""),
            "environment": env, "walltime_seconds": walltime_to_seconds(self.walltime),
            "project": f'+ProjectName = "{self.project}"\n' if self.project else "",
        }

    def job_script(
        self, command: str | None = None, tasks_per_node: int = 1,
        job_name: str = "plait.preview",
    ) -> str:
        """The submit description, then (as comments) the bash script it runs."""
        description = super().job_script(command, tasks_per_node, job_name)
        [shell] = self._extra_files(command or PLACEHOLDER_COMMAND, tasks_per_node, job_name,
                                    "").values()
        return description + "# the executable's argument, the block's bash script:\n" + \
            "".join(f"#   {line}\n" for line in shell.splitlines())

    def _extra_files(
        self, command: str, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, str]:
        """The bash script the submit description's ``executable`` runs."""
        assert self.launcher is not None
        return {f"{script_path}.sh": self._fill(SCRIPT, job_name, {
            "worker_init": worker_init_lines(self.worker_init),
            "user_script": self.launcher(command, tasks_per_node, self.nodes_per_block)})}

    def _submit_command(self, script_path: str) -> str:
        return f"condor_submit {self._quote(script_path)}"

    def _job_id_from(self, stdout: str) -> str | None:
        match = _SUBMITTED.search(stdout)
        return match.group(1) if match else None

    def _status_command(self, job_ids: list[str]) -> str:
        ids = " ".join(job_ids)
        # a job that left the queue is in the history: ask both, in one command
        return (f"condor_q {ids} -af:jt JobStatus RemoveReason; "
                f"condor_history {ids} -af:jt JobStatus RemoveReason")

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        if code != 0 and not stdout.strip():
            raise SchedulerError(f"condor_q exited with {code}: {stderr.strip()[-500:]}")
        found: dict[str, tuple[str, str]] = {}
        for line in stdout.splitlines():
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            cluster = parts[0].split(".")[0]
            status, reason = parts[1].strip(), (parts[2].strip() if len(parts) > 2 else "")
            reason = "" if reason == "undefined" else reason
            if status == "3" and "PeriodicRemove" in reason:
                status = "3(walltime)"
            found.setdefault(cluster, (status, reason))  # the queue's answer comes first
        return found

    def _missing_status(self, job_id: str) -> JobStatus:
        return JobStatus(JobState.COMPLETED, f"job {job_id} is in neither condor_q nor "
                         "condor_history")

    def _cancel_command(self, job_ids: list[str]) -> str:
        ids = " ".join(job_ids)
        return f"condor_rm {ids}; condor_rm -forcex {ids} >/dev/null 2>&1; true"
