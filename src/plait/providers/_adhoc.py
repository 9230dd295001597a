"""AdHocProvider: one block per host of a fixed list, started over SSH (no batch scheduler).

    AdHocProvider ─SSHTransport[i]─▶ host i: setsid bash <block script> & ─▶ managers ─┐
    interchange (here) ◀──────────────── workers connect back over TCP ─────────────────┘

A block is a process group on its host, its job id ``"<host index>:<pid>"``. Status asks
each host once for all of its blocks (alive, or the exit code its wrapper wrote); cancel
signals each block's whole group. As Parsl's former AdHocProvider, ``channels`` lists the
hosts and the block counts follow from it.
"""

from __future__ import annotations

import logging
import os
import shlex
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from plait._errors import ConfigurationError
from plait._validate import check_list
from plait.launchers import Launcher, SimpleLauncher
from plait.providers._cluster import SCRIPT_BODY, ClusterProvider, SchedulerError
from plait.providers._errors import SubmitException
from plait.providers._jobs import JobState, JobStatus
from plait.transport import Transport, TransportError, transport_from_description

log = logging.getLogger(__name__)

TEMPLATE = """#!/bin/bash
# plait block ${jobname} on an ad hoc host
""" + SCRIPT_BODY

# Runs the block in its own session; the wrapper records the exit code when it ends.
# (In braces: "a && b & c" would put a and b in the background too, stdin and all.)
_START = ('{{ setsid bash -c \'bash "$0" > "$0.stdout" 2> "$0.stderr"; echo $? > "$0.ec"\' '
          '{script} < /dev/null > /dev/null 2>&1 & echo $!; }}')
# One line per block: "<pid> R" while its group lives, "<pid> E <code>" once it exited,
# "<pid> X" if it is gone without an exit code (killed).
_STATUS = ('for j in {jobs}; do p=${{j%%:*}}; s=${{j#*:}}; st=$(ps -o stat= -p "$p"); '
           'case "$st" in ""|Z*) if [ -s "$s.ec" ]; then echo "$p E $(cat "$s.ec")"; '
           'else echo "$p X"; fi;; *) echo "$p R";; esac; done')


class AdHocProvider(ClusterProvider):
    """Run one block on each of a list of hosts reached over SSH.

    Args:
        channels: one :class:`~plait.transport.SSHTransport` per host (Parsl's name for
            the list; ``hosts`` is accepted too). ``max_blocks`` is their number.
        worker_init: shell lines run before the workers on each host.
        cmd_timeout: seconds an SSH command may take.
        parallelism: as for other providers.
        launcher: wraps the worker command (default ``SimpleLauncher()``: one manager per
            host).

    Workers connect back to the interchange over TCP: the hosts must reach this one.
    """

    scheduler: ClassVar[str] = "ad hoc hosts"
    template: ClassVar[str] = TEMPLATE
    script_suffix: ClassVar[str] = ".sh"
    states: ClassVar[dict[str, JobState]] = {"R": JobState.RUNNING}

    def __init__(
        self, channels: Sequence[Transport] = (), worker_init: str = "",
        cmd_timeout: float = 30, parallelism: float = 1, launcher: Launcher | None = None,
        hosts: Sequence[Transport] = (), init_blocks: int | None = None,
        min_blocks: int = 0, **options: Any,
    ) -> None:
        field, given = ("channels", channels) if channels or not hosts else ("hosts", hosts)
        allowed = "a non-empty list of SSHTransport, one per host"
        check_list(field, given, allowed, owner="AdHocProvider",
                   item_methods=("run", "push_file"))
        self.channels: list[Transport] = list(given)
        if not self.channels:
            raise ConfigurationError(field, given, allowed)
        n = len(self.channels)
        super().__init__(
            "adhoc", 1, n if init_blocks is None else init_blocks, min_blocks, n,
            parallelism, "99:00:00", launcher if launcher is not None else SimpleLauncher(),
            cmd_timeout=cmd_timeout, worker_init=worker_init, transport=self.channels[0],
            **options)

    @classmethod
    def for_cleanup(cls, transport: Transport, **kwargs: Any) -> ClusterProvider:
        channels = [transport_from_description(d) for d in kwargs.pop("channels")]
        prov = cls(channels=channels, **kwargs)
        prov.status_min_interval = 0
        return prov

    def cleanup_kwargs(self) -> dict[str, Any]:
        return {"channels": [c.describe() for c in self.channels]}

    @property
    def drain_after(self) -> None:  # type: ignore[override]
        return None  # hosts have no walltime

    def _host(self, job_id: str) -> tuple[Transport, str]:
        index, _, pid = job_id.partition(":")
        return self.channels[int(index)], pid

    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        """Start a block on the first host without one; returns ``"<host index>:<pid>"``.

        Raises:
            SubmitException: every host already runs a block, or SSH failed.
        """
        busy = {int(j.split(":")[0]) for j, r in self.resources.items()
                if not r["status"].terminal}
        free = [i for i in range(len(self.channels)) if i not in busy]
        if not free:
            raise SubmitException(job_name, f"{self.label}: each of the "
                                  f"{len(self.channels)} hosts already runs a block")
        index, transport = free[0], self.channels[free[0]]
        job_name = f"{job_name}.{time.time()}"
        path = self.script_path(job_name, self.script_suffix)
        with open(path, "w") as fh:
            fh.write(self.job_script(command, tasks_per_node, job_name))
        remote_dir = getattr(transport, "script_dir", None) or os.path.dirname(path)
        remote = shlex.quote(os.path.join(remote_dir, os.path.basename(path)))
        with open(path, "rb") as fh:
            script = fh.read()
        try:  # one SSH command: write the script there, then start it
            out = self._on(transport, f"mkdir -p {shlex.quote(remote_dir)} && cat > {remote} "
                           f"&& {_START.format(script=remote)}", job_name, script)
        except TransportError as exc:
            raise SubmitException(job_name, f"starting a block on {transport.hostname} "
                                  f"failed: {exc}") from exc
        pid = out.strip().splitlines()[-1] if out.strip() else ""
        if not pid.isdigit():
            raise SubmitException(job_name, f"no pid from {transport.hostname}", out)
        job_id = f"{index}:{pid}"
        self._track(job_id, job_name, os.path.join(remote_dir, os.path.basename(path)))
        return job_id

    def _on(self, transport: Transport, cmd: str, what: str, stdin: bytes) -> str:
        code, out, err = transport.run(cmd, timeout=self.cmd_timeout, stdin=stdin)
        if code != 0:
            raise SubmitException(what, f"`{cmd}` on {transport.hostname} failed", out, err,
                                  code)
        return out

    def _status(self) -> None:
        by_host: dict[int, list[str]] = {}
        for job_id, record in list(self.resources.items()):
            if not record["status"].terminal:
                by_host.setdefault(int(job_id.split(":")[0]), []).append(job_id)
        for index, jobs in by_host.items():
            pairs = " ".join(shlex.quote(f"{self._host(j)[1]}:{self.resources[j]['script']}")
                             for j in jobs)
            try:
                code, out, err = self.channels[index].run(_STATUS.format(jobs=pairs),
                                                          timeout=self.cmd_timeout)
                if code != 0:
                    raise SchedulerError(err.strip())
            except (TransportError, SchedulerError) as exc:
                self._warn_unreachable(index, exc)
                continue
            for line in out.splitlines():
                pid, kind, *rest = [*line.split(), ""]
                job_id = f"{index}:{pid}"
                if job_id in self.resources:
                    self._record(job_id, self._ended(job_id, kind, rest[0]))

    def _warn_unreachable(self, index: int, exc: BaseException) -> None:
        log.warning(
            "%s: host %s did not answer (%s); its blocks keep their last known state",
            self.label, self.channels[index].hostname, exc)

    def _ended(self, job_id: str, kind: str, code: str) -> JobStatus:
        script = self.resources[job_id]["script"]
        out, err = f"{script}.stdout", f"{script}.stderr"
        host = self._host(job_id)[0].hostname
        if kind == "R":
            return JobStatus(JobState.RUNNING, None, None, out, err)
        if kind == "E" and code == "0":
            return JobStatus(JobState.COMPLETED, None, 0, out, err)
        if kind == "E":
            return JobStatus(JobState.FAILED, f"block {job_id} on {host} exited with {code}",
                             int(code) if code.lstrip("-").isdigit() else None, out, err)
        state = JobState.CANCELLED if self.cancelled_by_plait(job_id) else JobState.FAILED
        return JobStatus(state, f"block {job_id} on {host} was killed", None, out, err)

    def cancel(self, job_ids: list[str]) -> list[bool]:
        """Signal each block's process group (SIGTERM, then SIGKILL after 2 s)."""
        by_host: dict[int, list[str]] = {}
        for job_id in job_ids:
            if job_id in self.resources and not self.resources[job_id]["status"].terminal:
                by_host.setdefault(int(job_id.split(":")[0]), []).append(job_id)
                self._cancelled.setdefault(job_id, time.monotonic())
        ok: set[str] = set()
        for index, jobs in by_host.items():
            groups = " ".join(f"-{self._host(j)[1]}" for j in jobs)
            # SIGTERM, up to 2 s for the groups to go, then SIGKILL
            cmd = (f"kill -TERM -- {groups} 2>/dev/null; for i in $(seq 20); do "
                   f"kill -0 -- {groups} 2>/dev/null || break; sleep 0.1; done; "
                   f"kill -KILL -- {groups} 2>/dev/null; true")
            try:
                self.channels[index].run(cmd, timeout=self.cmd_timeout)
                ok.update(jobs)
            except TransportError as exc:
                self._warn_unreachable(index, exc)
        self.refresh(force=True)
        return [j in ok or (j in self.resources and self.resources[j]["status"].terminal)
                for j in job_ids]

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
