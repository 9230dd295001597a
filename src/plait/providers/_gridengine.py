"""GridEngineProvider: blocks are (Son of) Grid Engine jobs (qsub / qstat / qdel).

Tested against a real Grid Engine (Debian's gridengine 8.1.9, services/gridengine.sh).
``qstat`` lists the user's live jobs; a job that ended leaves it, and ``qacct -j`` then
says how it ended ("failed 37 : qmaster enforced h_rt ..." is a walltime kill).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from plait.launchers import Launcher
from plait.providers._cluster import SCRIPT_BODY, ClusterProvider, LossCause, SchedulerError
from plait.providers._jobs import JobState, JobStatus
from plait.transport import Transport, TransportError

S = JobState


def _ge_states() -> dict[str, JobState]:
    """qstat(1)'s job states: combinations of d, E, h, r, R, s, S, t, T, w, q."""
    table: dict[str, JobState] = {}
    for state in ("qw", "hqw", "hRwq", "Rq", "hRq"):
        table[state] = S.HELD if state.startswith("h") else S.PENDING
    for state in ("r", "t", "Rr", "Rt"):
        table[state] = S.RUNNING
    for state in ("s", "ts", "S", "tS", "T", "tT", "Rs", "Rts", "RS", "RtS", "RT", "RtT"):
        table[state] = S.HELD
    for state in ("Eqw", "Ehqw", "EhRqw"):
        table[state] = S.FAILED  # an error state: the job stays until deleted
    for state in ("dr", "dt", "dRr", "dRt", "ds", "dS", "dT", "dRs", "dRS", "dRT", "dqw"):
        table[state] = S.RUNNING  # being deleted: its processes may still run
    table["ending"] = S.RUNNING  # left qstat, not yet in the accounting file
    table["ended(h_rt)"] = S.TIMEOUT
    table["ended(failed)"] = S.FAILED
    table["ended(killed)"] = S.CANCELLED  # SIGKILLed while it ran: qdel (or an admin's kill)
    table[_DELETED] = S.CANCELLED
    table["ended"] = S.COMPLETED
    return table


# plait qdel'd the job and qstat lists it no more, but its accounting record (how it ended)
# is not written yet: gone, for shutdown; not yet explained, for a loss (see explain_loss)
_DELETED = "ended(deleted)"
GE_STATES = _ge_states()
# how long a job that left qstat may lack an accounting record before it counts as ended
_ACCOUNTING_WAIT = 60.0

TEMPLATE = """#!/bin/bash
#$$ -S /bin/bash
#$$ -N ${jobname}
#$$ -o ${stdout}
#$$ -e ${stderr}
#$$ -l h_rt=${walltime}
${directives}${scheduler_options}
""" + SCRIPT_BODY


class GridEngineProvider(ClusterProvider):
    """Submit blocks to Grid Engine (Parsl's ``GridEngineProvider``, same parameters).

    Args:
        queue: ``-q``.
        transport, and ClusterProvider's plait options.

    Scripts are submitted as scripts (``qsub -terse script``): Grid Engine re-splits the
    arguments of ``qsub -b y`` binaries.
    """

    text_fields: ClassVar[tuple[str, ...]] = ("queue",)
    scheduler: ClassVar[str] = "gridengine"
    template: ClassVar[str] = TEMPLATE
    states: ClassVar[dict[str, JobState]] = GE_STATES
    loss_causes: ClassVar[dict[str, LossCause]] = {"ended(h_rt)": "walltime",
                                                   "ended(killed)": "cancelled"}
    transient_errors: ClassVar[tuple[str, ...]] = (
        "unable to contact qmaster", "unable to send message to qmaster", "commlib error")

    def __init__(
        self, nodes_per_block: int = 1, init_blocks: int = 1, min_blocks: int = 0,
        max_blocks: int = 1, parallelism: float = 1, walltime: str = "00:10:00",
        scheduler_options: str = "", worker_init: str = "", launcher: Launcher | None = None,
        cmd_timeout: int = 60, queue: str | None = None, transport: Transport | None = None,
        **options: Any,
    ) -> None:
        self.queue = queue
        super().__init__(
            "gridengine", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
            walltime, launcher,
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=transport,
            scheduler_options=scheduler_options, **options)

    def _template_values(
        self, tasks_per_node: int, job_name: str, script_path: str,
    ) -> dict[str, object]:
        return {"directives": f"#$ -q {self.queue}\n" if self.queue else ""}

    def _submit_command(self, script_path: str) -> str:
        return f"qsub -terse {self._quote(script_path)}"

    def _job_id_from(self, stdout: str) -> str | None:
        lines = stdout.strip().splitlines()
        return lines[-1].strip().split(".")[0] if lines else None

    def _status_command(self, job_ids: list[str]) -> str:
        return "qstat"  # every live job of this user, in one table

    def _parse_status(self, code: int, stdout: str, stderr: str) -> dict[str, tuple[str, str]]:
        if code != 0:
            raise SchedulerError(f"qstat exited with {code}: {stderr.strip()[-500:]}")
        found = {}
        for line in stdout.splitlines():
            cols = line.split()
            if len(cols) >= 5 and cols[0].isdigit():
                found[cols[0]] = (cols[4], "")
        return found

    def _missing_status(self, job_id: str) -> JobStatus:
        """The job left qstat: ``qacct -j`` says how it ended (once its record is written,
        within the accounting flush time; until then, and for at most a minute, the job
        counts as still ending)."""
        ended = self._accounting(job_id)
        if ended is not None:
            native, detail = ended
        elif job_id in self._cancelled:
            # plait's qdel, and qstat lists it no more: gone, whenever its accounting record
            # is written (flush_time, 15 s by default at sites)
            native, detail = _DELETED, "deleted by plait, no longer listed by qstat"
        else:
            native, detail = "ended", "no longer listed by qstat"
            first = self.resources[job_id].setdefault("missing_since", time.monotonic())
            if time.monotonic() - first < _ACCOUNTING_WAIT:
                native = "ending"
        return self._to_status(job_id, native, detail)

    def _accounting(self, job_id: str) -> tuple[str, str] | None:
        """How a job ended, from its ``qacct -j`` record: (state, detail); None until the
        record is written."""
        try:
            code, out, _ = self.execute_wait(f"qacct -j {job_id}")
        except TransportError:
            return None
        if code != 0:
            return None
        fields = {}
        for line in out.splitlines():
            key, _, value = line.partition(" ")
            fields[key] = value.strip()
        failed, exit_status = fields.get("failed", "0"), fields.get("exit_status", "")
        detail = f"failed {failed}, exit_status {exit_status}".strip()
        if failed.startswith("37") and "h_rt" in failed:
            return "ended(h_rt)", detail
        if failed.startswith("100") and exit_status.startswith("137"):
            return "ended(killed)", detail  # "assumedly after job", exit 137: qdel's SIGKILL
        if not failed.startswith("0"):
            return "ended(failed)", detail
        return "ended", detail

    def explain_loss(self, job_id: str, lost_at: float | None = None,
                     ) -> tuple[LossCause, str] | None:
        record = self.resources.get(job_id)
        if record is None:
            return None
        if not record["status"].terminal:
            self.refresh(force=True)  # here, not in super(): the qdel check needs its answer
        if (record.get("native_state") == _DELETED
                and not self.cancelled_by_plait(job_id, before=lost_at)):
            # plait's qdel came after the loss (to make sure the job is gone), so it is not
            # the cause: the accounting record says what was, once it is written
            ended = self._accounting(job_id)
            if ended is None:
                return None
            self._record(job_id, self._to_status(job_id, *ended))
        return super().explain_loss(job_id, lost_at)

    def _to_status(self, job_id: str, native: str, detail: str) -> JobStatus:
        status = super()._to_status(job_id, native, detail)
        if native.startswith("E") and job_id not in self._cancelled:
            # An error state keeps the job in the queue until someone deletes it.
            self._delete_errored(job_id)
        return status

    def _delete_errored(self, job_id: str) -> None:
        self._cancelled.setdefault(job_id, 0.0)
        try:
            self.execute_wait(f"qdel {job_id}")
        except TransportError as exc:
            self.resources[job_id]["delete_error"] = str(exc)

    def _cancel_command(self, job_ids: list[str]) -> str:
        return f"qdel {' '.join(job_ids)}"
