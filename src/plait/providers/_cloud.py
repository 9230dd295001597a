"""CloudProvider: the shared base of the cloud and Kubernetes providers.

    submit(): job_script() ─▶ <script_dir>/<name>.boot.sh (what the block runs) ─▶ _create()
              ─▶ instance / pod tagged plait-run=<run_id>, plait-provider=<label>,
                 plait-job=<name> ─▶ resources + journal (plait-jobs.jsonl) "submitted"
    status(): one _observe() call for every live block ─▶ cloud state ─▶ JobState via the
              provider's table (unknown names: UNKNOWN, logged, never "ended");
              a block the cloud no longer has ─▶ journal "gone"
    cancel(): _delete() ─▶ the block stays tracked until the cloud reports it gone
    cleanup(): cancel every tracked block, then delete whatever else carries this run's tag
               (an instance whose create call timed out is found that way too); close() is
               cleanup() without waiting, at executor shutdown

A subclass connects lazily (no network and no credential lookup in the constructor: a
Config builds anywhere) and implements _connect, _create, _observe, _delete_one (or
_delete) and _list_tagged. Each block is one instance or pod; its job id is the cloud's id.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import shlex
import threading
import time
import uuid
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait._validate import check_bool, check_str, fail
from plait._validate import check_str_map as check_str_map  # the cloud providers' import
from plait.launchers import Launcher, SingleNodeLauncher
from plait.providers._base import ExecutionProvider
from plait.providers._cloud_errors import CloudAPIError
from plait.providers._cluster import walltime_to_seconds, worker_init_lines
from plait.providers._errors import ScriptPathError, SubmitException
from plait.providers._jobs import JobState, JobStatus
from plait.providers._journal import JobJournal, open_journal

log = logging.getLogger(__name__)

TAG_RUN = "plait-run"
TAG_PROVIDER = "plait-provider"
TAG_JOB = "plait-job"

#: A block the cloud does not list yet, this soon after its create call returned, is still
#: starting (EC2 and others are eventually consistent); later, it was deleted outside plait.
NOT_LISTED_GRACE = 120.0


def load_sdk(provider: str, extra: str, *modules: str) -> list[ModuleType]:
    """Import the SDK modules a provider needs, or say which plait extra installs them.

    Raises:
        OptionalModuleMissing: naming the missing module and ``pip install 'plait[extra]'``.
    """
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError as exc:
            missing = exc.name or name
            raise OptionalModuleMissing(
                [missing], f"{provider} needs the {extra!r} extra: install it with "
                f"pip install 'plait[{extra}]'") from exc
    return loaded


def or_empty(value: Any, empty: Any) -> Any:
    """``empty`` for None, else ``value`` as given (validated later, then used as is)."""
    return empty if value is None else value


def check_strs(owner: str, *fields: tuple[str, object], none: bool = False,
               empty: bool = False) -> None:
    """Several string fields at once."""
    for name, value in fields:
        check_str(name, value, none=none, empty=empty, owner=owner)


def slug(text: str, limit: int = 63) -> str:
    """``text`` as a DNS label: lowercase letters, digits and '-', starting with a letter."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not out or not out[0].isalpha():
        out = f"p-{out}".rstrip("-")
    return out[:limit].rstrip("-")


def map_state(provider: str, native: str, table: Mapping[str, JobState]) -> JobState:
    """The JobState for a cloud state name; an unknown name is UNKNOWN and logged once."""
    state = table.get(native)
    if state is None:
        key = (provider, native)
        if key not in _UNKNOWN_SEEN:
            _UNKNOWN_SEEN.add(key)
            log.warning("%s: cloud state %r is not in plait's table; the block counts as "
                        "UNKNOWN (still holding a slot, never as ended). Please report it.",
                        provider, native)
        return JobState.UNKNOWN
    return state


_UNKNOWN_SEEN: set[tuple[str, str]] = set()


@dataclass(slots=True)
class Observed:
    """What the cloud said about one block: its status, and whether it still exists."""

    status: JobStatus
    exists: bool = True


@dataclass(slots=True)
class CloudJob:
    """One block: the resource plait created for it and what is known about it."""

    job_id: str
    name: str
    submitted: float
    status: JobStatus = field(default_factory=lambda: JobStatus(JobState.PENDING))
    cancelled: bool = False
    gone: bool = False          # the cloud confirmed the resource no longer exists
    delete_sent: bool = False


class CloudProvider(ExecutionProvider):
    """Base of providers that start one cloud instance (or pod) per block.

    Every resource carries the tags ``plait-run`` (this provider's ``run_id``),
    ``plait-provider`` (its label) and ``plait-job`` (the block's name), so what a run
    created can always be found: ``cleanup()`` deletes all of it.
    """

    #: Delete a block whose worker ended but whose resource still exists (a halted VM keeps
    #: its disk, and is billed): VMs yes; Kubernetes pods are kept for ``kubectl logs`` until
    #: cancel or cleanup.
    delete_ended = True

    def __init__(
        self, *, label: str, init_blocks: int, min_blocks: int, max_blocks: int,
        nodes_per_block: int, parallelism: float, worker_init: str, launcher: Launcher | None,
        walltime: str | None, linger: bool, status_polling_interval: float = 60.0,
    ) -> None:
        self.walltime, self.linger = walltime, linger
        self.run_id = uuid.uuid4().hex
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init,
            launcher=SingleNodeLauncher() if launcher is None else launcher,
            status_polling_interval=status_polling_interval)
        self._jobs: dict[str, CloudJob] = {}
        self._lock = threading.Lock()
        self._connected = False
        self._connect_lock = threading.Lock()
        self._counter = 0
        self._journal: JobJournal | None = None
        self._for_cleanup = False

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        if self.nodes_per_block != 1:
            raise fail("nodes_per_block", self.nodes_per_block, "1", name,
                       "One instance (or pod) makes one block: raise max_blocks for more.")
        if self.walltime is not None:
            walltime_to_seconds(self.walltime)
        check_bool("linger", self.linger, owner=name)

    # -- what subclasses provide ---------------------------------------------------------
    @abstractmethod
    def _connect(self) -> None:
        """Build the SDK clients (called once, before the first API call)."""

    @abstractmethod
    def _create(self, name: str, command: str, tasks_per_node: int,
                tags: dict[str, str]) -> str:
        """Create the block's resource; return its id.

        Raises:
            CloudAPIError: classified; the base turns it into SubmitException.
        """

    @abstractmethod
    def _observe(self, job_ids: list[str]) -> dict[str, Observed]:
        """One API round for all ``job_ids``; a job missing from the answer is not listed."""

    def _delete(self, job_ids: list[str]) -> dict[str, bool]:
        """Ask the cloud to delete the resources; per id, whether the request was accepted
        (a resource already gone counts as accepted). One call per id unless overridden."""
        result = {}
        for job_id in job_ids:
            try:
                self._delete_one(job_id)
                result[job_id] = True
            except CloudAPIError as exc:
                result[job_id] = exc.kind == "not_found" or exc.code == "404"  # already gone
                if not result[job_id]:
                    log.error("%s", exc)
        return result

    def _delete_one(self, job_id: str) -> None:
        """Delete one block's resource (raise CloudAPIError); see ``_delete``."""
        raise NotImplementedError

    @abstractmethod
    def _list_tagged(self) -> list[str]:
        """Ids of every live resource carrying this provider's ``plait-run`` tag."""

    # -- shared behaviour ------------------------------------------------------------------
    def tags(self, name: str | None = None) -> dict[str, str]:
        """The tags (labels) every resource of this run carries."""
        tags = {TAG_RUN: self.run_id, TAG_PROVIDER: slug(self.label)}
        if name is not None:
            tags[TAG_JOB] = name
        return tags

    def _ensure_connected(self) -> None:
        if self._connected:
            return
        with self._connect_lock:
            if not self._connected:
                self._connect()
                self._connected = True

    def _new_name(self, job_name: str) -> str:
        """A unique DNS-safe name: ``<job>-<run id prefix>-<n>`` (at most 63 characters)."""
        with self._lock:
            self._counter += 1
            n = self._counter
        tail = f"-{self.run_id[:8]}-{n}"
        return slug(job_name, 63 - len(tail)) + tail

    def worker_script(self, command: str, tasks_per_node: int, job_name: str) -> str:
        """The boot script (cloud-init user data) of a VM block.

        worker_init, then the launcher's copies of ``command``; with a walltime the workers
        are stopped when it ends, and unless ``linger`` the instance then powers off, which
        the provider turns into deletion. A crashed plait script therefore leaves no instance
        running past its walltime.
        """
        assert self.launcher is not None
        launched = self.launcher(command, tasks_per_node, self.nodes_per_block, "")
        body = (f"#!/bin/bash\n{worker_init_lines(self.worker_init)}"
                f"export JOBNAME={shlex.quote(job_name)}\n{launched}")
        if "PLAIT_BLOCK_EOF" in body:
            raise ConfigurationError("worker_init/command contain the line PLAIT_BLOCK_EOF, "
                                     "which plait's boot script uses as a delimiter")
        run = "bash /var/tmp/plait-block.sh"
        if self.walltime is not None and not self.linger:
            run = f"timeout -k 30 -s TERM {walltime_to_seconds(self.walltime)} {run}"
        end = "" if self.linger else "shutdown -h now\n"
        return (
            "#!/bin/bash\n"
            f"# plait block {job_name} of run {self.run_id} (provider {self.label})\n"
            "cat > /var/tmp/plait-block.sh <<'PLAIT_BLOCK_EOF'\n"
            f"{body}\nPLAIT_BLOCK_EOF\n"
            f"{run} >> /var/log/plait-block.log 2>&1\n"
            'echo "plait: block ended with exit code $?" >> /var/log/plait-block.log\n'
            f"{end}")

    def job_script(self, command: str, tasks_per_node: int, job_name: str) -> str:
        """What a block runs (printed or written before anything is submitted)."""
        return self.worker_script(command, tasks_per_node, job_name)

    def _write_script(self, name: str, text: str) -> str:
        """Keep what the block runs in script_dir; returns the path ("" without one)."""
        if not self.script_dir:
            return ""  # used without a kernel: nothing to keep the script in
        path = os.path.join(self.script_dir, f"{name}.boot.sh")
        try:
            os.makedirs(self.script_dir, exist_ok=True)
            with open(path, "w") as fh:
                fh.write(text)
        except OSError as exc:
            raise ScriptPathError(path, exc) from exc
        return path

    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        """Start one instance (pod) running ``command``; return its id.

        Raises:
            SubmitException: the cloud refused; its ``__cause__`` is a CloudAPIError whose
                message names the failure (credentials, quota, image, ...) and the fix.
        """
        name = self._new_name(job_name)
        try:
            script = self._write_script(name, self.job_script(command, tasks_per_node, name))
            self._ensure_connected()
            job_id = self._create(name, command, tasks_per_node, self.tags(name))
        except (CloudAPIError, ConfigurationError) as exc:
            # SubmitException adds its own closing sentence
            raise SubmitException(name, str(exc).rstrip(".")) from exc
        self._track(job_id, name, script)
        log.info("%s: block %s started as %s", self.label, name, job_id)
        return job_id

    # -- the job journal (plait cleanup RUN; the next run cleans a crashed one's blocks) ----
    def _track(self, job_id: str, job_name: str, script: str) -> None:
        """Follow a block: one this provider started, or (for ``plait cleanup``) one a
        journal names, which the cloud no longer listing means is gone."""
        age = NOT_LISTED_GRACE if self._for_cleanup else 0.0
        job = CloudJob(job_id, job_name, time.monotonic() - age)
        with self._lock:
            self._jobs[job_id] = job
            self.resources[job_id] = {"job_id": job_id, "job_name": job_name,
                                      "script": script, "status": job.status}
        journal = self._open_journal()
        if journal is not None:
            journal.submitted(job_id, job_name, script, self.description())

    def _open_journal(self) -> JobJournal | None:
        if self._journal is None and self.script_dir and not self._for_cleanup:
            self._journal = open_journal(self.script_dir, self.label)
        return self._journal

    def cleanup_kwargs(self) -> dict[str, Any]:
        """Constructor arguments a provider that only looks up and deletes this run's
        resources needs (credentials by reference, never secrets)."""
        return {}

    def description(self) -> dict[str, Any]:
        """How ``plait cleanup`` rebuilds this provider to delete what the run left."""
        cls = type(self)
        return {"class": f"{cls.__module__}:{cls.__qualname__}", "label": self.label,
                "kwargs": {**self.cleanup_kwargs(), "label": self.label,
                           "run_id": self.run_id},
                "transport": {"kind": "local"}}

    @classmethod
    def for_cleanup(cls, transport: Any = None, run_id: str | None = None,
                    **kwargs: Any) -> CloudProvider:
        """A provider that looks up and deletes the blocks of run ``run_id`` (``plait
        cleanup``); ``transport`` is accepted for the journal's sake (clouds need none)."""
        prov = cls(**kwargs)
        prov._for_cleanup = True
        if run_id:
            prov.run_id = run_id
        return prov

    def status(self, job_ids: list[str]) -> list[JobStatus]:
        """Each block's state, from one API round for all live ones (MISSING if unknown).

        An API error keeps the last known states (logged): a flaky API never ends a block.
        """
        with self._lock:
            jobs = {j: self._jobs.get(j) for j in job_ids}
        live = [j for j, job in jobs.items() if job is not None and not job.gone]
        if live:
            self._refresh([jobs[j] for j in live])  # type: ignore[misc]
        out = []
        for job_id, job in jobs.items():
            if job is None:
                out.append(JobStatus(JobState.MISSING,
                                     f"{job_id} was not started by provider {self.label}"))
            else:
                out.append(job.status)
        return out

    def _refresh(self, jobs: list[CloudJob]) -> None:
        try:
            self._ensure_connected()
            seen = self._observe([j.job_id for j in jobs])
        except (CloudAPIError, ConfigurationError) as exc:
            log.warning("%s: status query failed, keeping the last known states: %s",
                        self.label, exc)
            return
        now = time.monotonic()
        ended: list[str] = []
        for job in jobs:
            obs = seen.get(job.job_id)
            if obs is None:
                obs = self._not_listed(job, now)
                if obs is None:
                    continue
            status = obs.status
            if job.status.terminal and not status.terminal:
                status = job.status  # an ended block stays ended (the executor relies on it)
            if job.cancelled and status.terminal and status.state is not JobState.CANCELLED:
                status = JobStatus(JobState.CANCELLED, f"block {job.name} was cancelled",
                                   status.exit_code)
            with self._lock:
                newly_gone = not obs.exists and not job.gone
                job.status = status
                job.gone = not obs.exists
                self.resources[job.job_id]["status"] = status
            if newly_gone and self._journal is not None:
                self._journal.gone(job.job_id, status.state.name)
            if (status.terminal and obs.exists and self.delete_ended
                    and not job.delete_sent):
                ended.append(job.job_id)
        if ended:
            self._send_delete(ended)

    def ended_by_itself(self, job_id: str, what: str) -> JobStatus:
        """The block's machine stopped from inside: TIMEOUT if its walltime had passed (the
        boot script's limit), else COMPLETED (the workers ended)."""
        with self._lock:
            job = self._jobs.get(job_id)
        ran = time.monotonic() - job.submitted if job is not None else 0.0
        if self.walltime and ran >= walltime_to_seconds(self.walltime):
            return JobStatus(JobState.TIMEOUT, f"{what} reached its walltime {self.walltime} "
                             "and stopped")
        return JobStatus(JobState.COMPLETED, f"{what}: the workers ended and it stopped")

    def _not_listed(self, job: CloudJob, now: float) -> Observed | None:
        if job.delete_sent and job.status.terminal:  # an ended block plait deleted: gone
            return Observed(job.status, exists=False)
        if job.cancelled:
            return Observed(JobStatus(JobState.CANCELLED, f"block {job.name} was cancelled"),
                            exists=False)
        if now - job.submitted < NOT_LISTED_GRACE:
            return None  # not listed yet: the cloud is eventually consistent
        return Observed(JobStatus(
            JobState.MISSING, f"block {job.name} ({job.job_id}) is no longer known to the "
            "cloud: it was deleted outside plait"), exists=False)

    def _send_delete(self, job_ids: list[str]) -> dict[str, bool]:
        with self._lock:
            for j in job_ids:
                self._jobs[j].delete_sent = True
        try:
            self._ensure_connected()
            return self._delete(job_ids)
        except (CloudAPIError, ConfigurationError) as exc:
            log.error("%s: deleting %s failed: %s", self.label, job_ids, exc)
            with self._lock:
                for j in job_ids:
                    self._jobs[j].delete_sent = False
            return dict.fromkeys(job_ids, False)

    def cancel(self, job_ids: list[str]) -> list[bool]:
        """Delete the blocks' resources; per id, whether the cloud accepted the request."""
        with self._lock:
            known = [j for j in job_ids if j in self._jobs]
            for j in known:
                self._jobs[j].cancelled = True
            # a deletion the cloud already accepted is not sent again
            todo = [j for j in known if not (self._jobs[j].gone or self._jobs[j].delete_sent)]
        accepted = self._send_delete(todo) if todo else {}
        with self._lock:
            done = {j: accepted.get(j, self._jobs[j].gone or self._jobs[j].delete_sent)
                    for j in known}
            for j in known:
                job = self._jobs[j]
                if done[j] and not job.status.terminal:
                    job.status = JobStatus(JobState.CANCELLED, f"block {job.name} was cancelled")
                    self.resources[j]["status"] = job.status
        return [done.get(j, False) for j in job_ids]

    def live_jobs(self) -> list[str]:
        """Blocks whose resource the cloud has not yet confirmed gone."""
        with self._lock:
            return [j for j, job in self._jobs.items() if not job.gone]

    def cleanup(self, timeout: float = 60.0) -> list[str]:
        """Delete everything this run created: tracked blocks, then anything else tagged
        with ``run_id``; wait (up to ``timeout`` s) for the cloud to confirm. Returns the ids
        still not confirmed gone (logged as an error, with how to find them)."""
        tracked = self.live_jobs()
        if tracked:
            self.cancel(tracked)
        try:
            self._ensure_connected()
            stray = [j for j in self._list_tagged() if j not in self._jobs]
        except (CloudAPIError, ConfigurationError) as exc:
            log.error("%s: listing this run's resources failed: %s", self.label, exc)
            stray = []
        if stray:
            log.warning("%s: deleting resources of run %s that plait was not tracking: %s",
                        self.label, self.run_id, stray)
            for j in stray:
                self._track(j, j, "")  # in the journal too, until the cloud confirms
            self.cancel(stray)
        deadline = time.monotonic() + timeout
        left = self.live_jobs()
        while left and time.monotonic() < deadline:
            self.status(left)
            left = self.live_jobs()
            if left:
                time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))  # cloud-side wait
        if left and timeout > 0:
            log.error("%s: resources %s were not confirmed deleted within %.0f s; find them "
                      "by the tag %s=%s", self.label, left, timeout, TAG_RUN, self.run_id)
        elif left:
            log.info("%s: deletion of %s requested; they carry the tag %s=%s", self.label,
                     left, TAG_RUN, self.run_id)
        return left

    def close(self) -> None:
        """At executor shutdown: delete every resource of the run, including any whose
        creation never reported back, without waiting for the cloud to confirm."""
        self.cleanup(timeout=0)

