"""The job journal: every job a provider submits, kept on disk until the scheduler says it is gone.

    provider.submit ──"submitted"──▶ <script_dir>/plait-jobs.jsonl ◀──"gone"── provider.status
    plait cleanup RUN, or the next run in the same runinfo/ ──▶ cleanup_journal(): cancel what
                                                               is still open, record it gone

One JSON object per line, appended and flushed at once, so a script killed at any moment
leaves a journal that names every job it may have left behind. A journal belongs to one
process (its first line says which); cleanup leaves alone a journal whose process still runs.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)

JOURNAL_NAME = "plait-jobs.jsonl"


def _me() -> dict[str, Any]:
    pid = os.getpid()
    return {"event": "owner", "pid": pid, "host": socket.gethostname(),
            "started": psutil.Process(pid).create_time()}


class JobJournal:
    """Appends job events to ``<script_dir>/plait-jobs.jsonl`` (one writer: this process)."""

    def __init__(self, script_dir: str) -> None:
        self.path = os.path.join(script_dir, JOURNAL_NAME)
        self._lock = threading.Lock()
        fresh = not os.path.exists(self.path)
        os.makedirs(script_dir, exist_ok=True)
        if fresh:
            self._write(_me())

    def _write(self, record: dict[str, Any]) -> None:
        # Opened per record: jobs are few, and nothing stays open for a crash to lose.
        with self._lock, open(self.path, "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def submitted(self, job_id: str, job_name: str, script: str,
                  provider: dict[str, Any]) -> None:
        """Record a job the scheduler accepted, with what it takes to cancel it later."""
        self._write({"event": "submitted", "job_id": job_id, "job_name": job_name,
                     "script": script, "time": time.time(), "provider": provider})

    def gone(self, job_id: str, state: str) -> None:
        """Record that the scheduler reported the job ended (it needs no cleanup)."""
        self._write({"event": "gone", "job_id": job_id, "state": state, "time": time.time()})


@dataclass(slots=True)
class OpenJobs:
    """What a journal says is still (maybe) on a scheduler."""

    path: str
    owner: dict[str, Any]
    #: job id -> the provider description recorded at submission
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def owner_alive(self) -> bool:
        """True if the process that wrote the journal runs (or cannot be checked: other host)."""
        if self.owner.get("host") != socket.gethostname():
            return True
        try:
            proc = psutil.Process(int(self.owner["pid"]))
            return abs(proc.create_time() - float(self.owner["started"])) < 1.0
        except (psutil.Error, KeyError, ValueError, TypeError):
            return False


def read_journal(path: str) -> OpenJobs:
    """The jobs of a journal that were submitted and never recorded gone."""
    owner: dict[str, Any] = {}
    jobs: dict[str, dict[str, Any]] = {}
    with open(path) as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            kind = rec.get("event")
            if kind == "owner" and not owner:
                owner = rec
            elif kind == "submitted":
                jobs[str(rec["job_id"])] = rec
            elif kind == "gone":
                jobs.pop(str(rec["job_id"]), None)
    return OpenJobs(path, owner, jobs)


def journals_under(root: str) -> Iterator[str]:
    """Journal files in a run directory (``<run>/submit_scripts/``) or a tree of runs."""
    base = Path(root)
    if (base / JOURNAL_NAME).is_file():
        yield str(base / JOURNAL_NAME)
    for pattern in (f"*/{JOURNAL_NAME}", f"*/*/{JOURNAL_NAME}"):
        for found in sorted(base.glob(pattern)):
            yield str(found)


def provider_from_description(desc: dict[str, Any]) -> Any:
    """Rebuild a provider able to cancel and query jobs from its journal description."""
    from plait.transport import transport_from_description

    module, _, qualname = desc["class"].partition(":")
    cls = getattr(importlib.import_module(module), qualname)
    transport = transport_from_description(desc.get("transport") or {"kind": "local"})
    return cls.for_cleanup(transport=transport, **desc.get("kwargs", {}))


@dataclass(slots=True)
class CleanupReport:
    """What cleaning one journal did."""

    path: str
    cancelled: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    still_there: list[str] = field(default_factory=list)
    skipped_live_owner: bool = False
    errors: list[str] = field(default_factory=list)


def cleanup_journal(path: str, force: bool = False) -> CleanupReport:
    """Cancel the journal's open jobs and record those the scheduler confirms gone.

    A journal whose writing process still runs is left alone unless ``force``.
    """
    report = CleanupReport(path)
    open_jobs = read_journal(path)
    if not open_jobs.jobs:
        return report
    if not force and open_jobs.owner_alive():
        report.skipped_live_owner = True
        return report
    by_provider: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for job_id, rec in open_jobs.jobs.items():
        key = json.dumps(rec["provider"], sort_keys=True)
        by_provider.setdefault(key, (rec["provider"], []))[1].append(job_id)
    with open(path, "a") as fh:
        for desc, ids in by_provider.values():
            try:
                provider = provider_from_description(desc)
                for job_id in ids:
                    rec = open_jobs.jobs[job_id]
                    provider._track(job_id, rec.get("job_name", ""), rec.get("script", ""))
                _cleanup_jobs(provider, ids, report, fh)
            except Exception as exc:
                log.warning("cleaning up jobs %s from %s failed: %s", ids, path, exc)
                report.errors.append(f"{desc.get('class')}: jobs {', '.join(ids)}: {exc}")
    return report


def _cleanup_jobs(provider: Any, ids: list[str], report: CleanupReport, fh: Any) -> None:
    before = dict(zip(ids, provider.status(ids), strict=True))
    live = [j for j in ids if not before[j].terminal]
    if live:
        provider.cancel(live)
        confirm = getattr(provider, "confirm_gone", None)  # batch providers: COMPLETING first
        if confirm is not None:
            confirm(live, timeout=10.0)
    after = dict(zip(ids, provider.status(ids), strict=True)) if live else before
    for job_id in ids:
        st = after[job_id]
        if st.terminal:
            (report.cancelled if job_id in live else report.already_gone).append(job_id)
            fh.write(json.dumps({"event": "gone", "job_id": job_id, "state": st.state.name,
                                 "time": time.time(), "by": "cleanup"}) + "\n")
        else:
            report.still_there.append(job_id)
    fh.flush()


def cleanup_stale_siblings(script_dir: str) -> list[CleanupReport]:
    """Clean the journals of earlier runs next to this one whose process is gone.

    ``script_dir`` is ``<runinfo>/<NNN>/submit_scripts``; the siblings are the other runs in
    ``<runinfo>``. Called when a provider opens its journal, so a crashed script's jobs are
    cancelled by the next run.
    """
    if Path(script_dir).name != "submit_scripts":
        return []  # not the kernel's runinfo/NNN/submit_scripts layout: no siblings to trust
    run_dir = Path(script_dir).resolve().parent
    runinfo = run_dir.parent
    reports = []
    mine = str(Path(script_dir).resolve() / JOURNAL_NAME)
    for sibling in sorted(runinfo.glob(f"*/*/{JOURNAL_NAME}")):
        if str(sibling.resolve()) == mine:
            continue
        with contextlib.suppress(OSError):
            if not read_journal(str(sibling)).jobs:
                continue
            report = cleanup_journal(str(sibling))
            if report.cancelled or report.errors or report.still_there:
                log.warning("jobs left by an earlier run (%s): cancelled %s, already gone %s, "
                            "still there %s%s", sibling, report.cancelled, report.already_gone,
                            report.still_there,
                            f"; errors: {report.errors}" if report.errors else "")
            reports.append(report)
    return reports


def open_journal(script_dir: str, label: str) -> JobJournal | None:
    """A provider's journal in ``script_dir``, opened after cleaning what crashed earlier runs
    beside it left; None (logged) if it cannot be written. Shared by every provider kind."""
    try:
        cleanup_stale_siblings(script_dir)
    except Exception:
        log.exception("%s: checking earlier runs for left-over jobs failed", label)
    try:
        return JobJournal(script_dir)
    except OSError as exc:
        log.error("%s: cannot write the job journal in %s (%s); jobs left behind by a crash "
                  "will not be found by `plait cleanup`", label, script_dir, exc)
        return None
