"""Turns records into rows and writes them, one transaction per batch (database process).

A task's row is inserted when it is submitted; when it ends within the same batch (most
short tasks do) the finished row is inserted once, otherwise its end is an UPDATE by
primary key. The writer keeps only the tasks still running in memory.

A failed transaction is an outage: its rows are dropped and counted, the next attempt
waits ``RETRY_S``, and the run's workflow row goes into every batch until one commits (the
tables that reference it need it first). Nothing here ever raises into the loop.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from plait.dataflow._states import States
from plait.monitoring import _db
from plait.monitoring import _records as R
from plait.monitoring import _schema as s

log = logging.getLogger("plait.monitoring.writer")
RETRY_S = 10.0
_NAMES = {int(state): state.name for state in States}

_TASK_COLS = ("task_id", "run_id", "task_depends", "task_func_name", "task_memoize",
              "task_hashsum", "task_inputs", "task_outputs", "task_stdin", "task_stdout",
              "task_stderr", "task_time_invoked", "task_time_returned", "task_fail_count",
              "task_fail_cost")
_TRY_COLS = ("try_id", "task_id", "run_id", "block_id", "hostname", "task_executor",
             "task_try_time_launched", "task_try_time_running", "task_try_time_returned",
             "task_fail_history", "task_joins")
_STATUS_COLS = ("task_id", "task_status_name", "timestamp", "run_id", "try_id")
_PTASK_COLS = ("run_id", "task_id", "task_args", "task_walltime")
_FAILURE_COLS = ("run_id", "task_id", "try_id", "timestamp", "exception_type", "message",
                 "traceback", "root_cause_task")
_RESOURCE_COLS = tuple(c.name for c in s.resource.columns)
_NODE_COLS = tuple(c.name for c in s.node.columns if c.name != "id")
_BLOCK_COLS = ("run_id", "executor_label", "block_id", "job_id", "timestamp", "status")
_WORKFLOW_COLS = tuple(c.name for c in s.workflow.columns)
_PWORKFLOW_COLS = ("run_id", "script", "argv", "cwd", "retry_of", "pid", "python_version",
                   "plait_version", "executors", "outcome", "last_update", "records_dropped")
_PROGRESS_COLS = ("run_id", "task_func_name", "task_status_name", "count")

# positions in the row lists kept for tasks and tries of the current batch
_T_HASH, _T_RETURNED, _T_FAILS, _T_COST = 5, 12, 13, 14
_Y_BLOCK, _Y_HOST, _Y_RETURNED, _Y_HISTORY, _Y_JOINS = 3, 4, 8, 9, 10


# a live task: [its app's counts per state, its state, its executor, its latest try or -1]
_L_COUNTS, _L_STATE, _L_EXECUTOR, _L_TRY = 0, 1, 2, 3
_TRY_ENDS = frozenset({"exec_done", "failed", "cancelled"})


@dataclass
class _Batch:
    """Rows of the current transaction."""

    tasks: dict[int, list[Any]] = field(default_factory=dict)
    ptasks: list[tuple[Any, ...]] = field(default_factory=list)
    tries: dict[tuple[int, int], list[Any]] = field(default_factory=dict)
    status: list[tuple[Any, ...]] = field(default_factory=list)
    failures: list[tuple[Any, ...]] = field(default_factory=list)
    resources: list[tuple[Any, ...]] = field(default_factory=list)
    nodes: list[tuple[Any, ...]] = field(default_factory=list)
    blocks: list[tuple[Any, ...]] = field(default_factory=list)
    task_ends: list[tuple[Any, ...]] = field(default_factory=list)
    try_ends: list[tuple[Any, ...]] = field(default_factory=list)
    try_hosts: list[tuple[Any, ...]] = field(default_factory=list)
    workflow_end: tuple[Any, ...] | None = None
    records: int = 0


class Writer:
    """Applies records of one run to the database at ``url``."""

    def __init__(self, url: str, run_id: str, warn: Callable[[str], None]) -> None:
        self.url, self.run_id, self.warn = url, run_id, warn
        self.engine: sa.Engine | None = None
        self.live: dict[int, list[Any]] = {}
        self.placed: set[tuple[int, int]] = set()  # tries whose host is recorded; live ones
        self.counts: dict[str, dict[str, int]] = {}  # app -> state -> tasks in it now
        self.batch = _Batch()
        self.workflow_rows: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None
        self.workflow_committed = False
        self.dropped = 0
        self.committed = 0
        self.broken_since: float | None = None
        self.retry_at = 0.0
        self.newest = 0.0  # the latest event time seen: how far behind the writer is
        self.max_lag = 0.0
        self.ts = _db.timestamp_converter(sa.make_url(url).get_backend_name())

    # -- records → rows -----------------------------------------------------------------------
    def add(self, records: list[tuple[Any, ...]]) -> None:
        """Turn records into rows of the current batch (the hot kinds inline)."""
        handlers, state, task, final = self._handlers, self._state, self._task, self._final
        for rec in records:
            kind = rec[0]
            if kind == R.STATE:
                state(rec)
            elif kind == R.TASK:
                task(rec)
            elif kind == R.FINAL:
                final(rec)
            else:
                handlers[kind](self, rec)
        self.batch.records += len(records)

    def _workflow(self, r: tuple[Any, ...]) -> None:
        (_, run_id, name, version, began, host, user, rundir, script, argv, cwd, retry_of, pid,
         python, version_plait, executors) = r
        when = self.ts(began)
        self.workflow_rows = (
            (run_id, name, version, when, None, host, user, rundir, 0, 0),
            (run_id, script, argv, cwd, retry_of, pid, python, version_plait, executors,
             "running", when, 0))
        self.newest = max(self.newest, began)

    def _task(self, r: tuple[Any, ...]) -> None:
        (_, tid, func, invoked, executor, memoize, depends, stdout, stderr, inputs, outputs,
         args, walltime) = r
        b, run = self.batch, self.run_id
        when = self.ts(invoked)
        b.tasks[tid] = [tid, run, depends, func, "True" if memoize else "False", None, inputs,
                        outputs, None, stdout, stderr, when, None, 0, 0.0]
        if args is not None or walltime is not None:
            b.ptasks.append((run, tid, args, walltime))
        b.status.append((tid, "pending", when, run, 0))
        counts = self.counts.get(func)
        if counts is None:
            counts = self.counts[func] = dict.fromkeys(_NAMES.values(), 0)
        counts["pending"] += 1
        self.live[tid] = [counts, "pending", executor, -1]
        self.newest = invoked

    def _state(self, r: tuple[Any, ...]) -> None:
        _, tid, code, t, try_id = r
        name = _NAMES[code]
        when = self.ts(t)
        b = self.batch
        b.status.append((tid, name, when, self.run_id, try_id))
        self.newest = t
        live = self.live.get(tid)
        if live is None:
            return
        counts = live[_L_COUNTS]
        counts[live[_L_STATE]] -= 1
        counts[name] += 1
        live[_L_STATE] = name
        if name == "launched":
            live[_L_TRY] = try_id
            b.tries[(tid, try_id)] = [try_id, tid, self.run_id, None, None, live[_L_EXECUTOR],
                                      when, None, None, None, None]
        elif name == "fail_retryable" and live[_L_TRY] >= 0:
            self._end_try(tid, live[_L_TRY], when, None)

    def _final(self, r: tuple[Any, ...]) -> None:
        _, tid, code, t, try_id, fails, cost, hashsum, joins = r
        name = _NAMES[code]
        b, run = self.batch, self.run_id
        when = self.ts(t)
        b.status.append((tid, name, when, run, try_id))
        self.newest = t
        row = b.tasks.get(tid)
        if row is not None:
            row[_T_HASH], row[_T_RETURNED], row[_T_FAILS], row[_T_COST] = (hashsum, when,
                                                                         fails, cost)
        else:
            b.task_ends.append((hashsum, when, fails, cost, tid, run))
        live = self.live.pop(tid, None)
        if live is None:
            return
        for k in range(live[_L_TRY] + 1):
            self.placed.discard((tid, k))
        counts = live[_L_COUNTS]
        counts[live[_L_STATE]] -= 1
        counts[name] += 1
        if live[_L_TRY] == try_id and name in _TRY_ENDS:
            self._end_try(tid, try_id, when, joins)

    def _end_try(self, tid: int, try_id: int, when: Any, joins: str | None) -> None:
        row = self.batch.tries.get((tid, try_id))
        if row is not None:
            row[_Y_RETURNED], row[_Y_JOINS] = when, joins
        else:
            self.batch.try_ends.append((when, joins, try_id, tid, self.run_id))

    def _failure(self, r: tuple[Any, ...]) -> None:
        _, tid, try_id, t, kind, message, tb, root = r
        self.batch.failures.append((self.run_id, tid, try_id, self.ts(t), kind, message, tb,
                                    root))
        row = self.batch.tries.get((tid, try_id))
        if row is not None:
            row[_Y_HISTORY] = f"{kind}: {message}"[:1000]

    def _resource(self, r: tuple[Any, ...]) -> None:
        (_, tid, try_id, t, interval, host, block, pid, mem_pct, children, user, system,
         vms, rss, read, write, status, cpu, vol, invol) = r
        b = self.batch
        b.resources.append((try_id, tid, self.run_id, self.ts(t), interval, pid, mem_pct,
                            children, user, system, vms, rss, read, write, status, cpu, vol,
                            invol))
        row = b.tries.get((tid, try_id))
        if row is not None:
            row[_Y_HOST], row[_Y_BLOCK] = host, block
        elif (tid, try_id) not in self.placed:  # where the try ran: once per try
            b.try_hosts.append((host, block, try_id, tid, self.run_id))
        self.placed.add((tid, try_id))

    def _node(self, r: tuple[Any, ...]) -> None:
        _, t, _executor, host, uid, block_id, cpus, mem, active, workers, python = r
        when = self.ts(t)
        self.batch.nodes.append((self.run_id, host, uid, str(block_id), cpus, mem, active,
                                 workers, python, when, when))

    def _block(self, r: tuple[Any, ...]) -> None:
        _, t, executor, block_id, job_id, status = r
        self.batch.blocks.append((self.run_id, executor, str(block_id), job_id, self.ts(t),
                                  status))

    def _workflow_end(self, r: tuple[Any, ...]) -> None:
        self.batch.workflow_end = r

    def _flush(self, r: tuple[Any, ...]) -> None:
        pass  # handled by the loop, which commits before answering

    _handlers: dict[int, Callable[[Writer, tuple[Any, ...]], None]] = {
        R.WORKFLOW: _workflow, R.TASK: _task, R.STATE: _state, R.FINAL: _final,
        R.FAILURE: _failure, R.RESOURCE: _resource, R.NODE: _node, R.BLOCK: _block,
        R.WORKFLOW_END: _workflow_end, R.FLUSH: _flush,
    }

    # -- rows → database ----------------------------------------------------------------------
    def pending(self) -> int:
        """Records waiting for the next commit."""
        return self.batch.records

    def commit(self) -> None:
        """Write the current batch in one transaction; on failure drop it (an outage)."""
        batch, self.batch = self.batch, _Batch()
        if not batch.records and batch.workflow_end is None and self.workflow_committed:
            return
        now = time.time()
        if self.broken_since is not None and now < self.retry_at:
            self.dropped += batch.records
            return
        try:
            self._connect()
            assert self.engine is not None
            with self.engine.begin() as conn:
                self._write(conn, batch, now)
        except Exception as exc:
            self.dropped += batch.records
            self.retry_at = now + RETRY_S
            if self.broken_since is None:
                self.broken_since = now
                log.warning("cannot write to %s: %s", self._shown_url(), exc, exc_info=True)
                self.warn(f"monitoring cannot write to {self._shown_url()} "
                          f"({type(exc).__name__}: {exc}); the run goes on, unrecorded until "
                          f"the database is writable again (retried every {RETRY_S:.0f} s)")
            return
        if self.broken_since is not None:
            log.warning("writing to %s again after %.0f s; %d records were dropped",
                        self._shown_url(), now - self.broken_since, self.dropped)
            self.broken_since = None
        self.workflow_committed = True
        self.committed += batch.records
        if batch.records and self.newest:  # how old the newest record was when committed
            self.max_lag = max(self.max_lag, time.time() - self.newest)

    def _shown_url(self) -> str:
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def _connect(self) -> None:
        if self.engine is not None:
            return
        engine = _db.open_engine(self.url, create_dirs=True)
        try:
            _db.ensure_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        self.engine = engine
        self._prepare(engine)

    def _prepare(self, engine: sa.Engine) -> None:
        ins, upd = _db.insert_ignoring_duplicates, _db.update_by_key
        self.ins = {name: ins(engine, table, cols) for name, table, cols in (
            ("workflow", s.workflow, _WORKFLOW_COLS),
            ("plait_workflow", s.plait_workflow, _PWORKFLOW_COLS),
            ("task", s.task, _TASK_COLS), ("plait_task", s.plait_task, _PTASK_COLS),
            ("try", s.try_, _TRY_COLS), ("status", s.status, _STATUS_COLS),
            ("failure", s.plait_failure, _FAILURE_COLS),
            ("resource", s.resource, _RESOURCE_COLS), ("node", s.node, _NODE_COLS),
            ("block", s.block, _BLOCK_COLS), ("progress", s.plait_progress, _PROGRESS_COLS))}
        self.task_end = upd(engine, s.task, ("task_id", "run_id"),
                            ("task_hashsum", "task_time_returned", "task_fail_count",
                             "task_fail_cost"))
        self.try_end = upd(engine, s.try_, ("try_id", "task_id", "run_id"),
                           ("task_try_time_returned", "task_joins"))
        self.try_host = upd(engine, s.try_, ("try_id", "task_id", "run_id"),
                            ("hostname", "block_id"))
        self.workflow_done = upd(engine, s.workflow, ("run_id",),
                                 ("time_completed", "tasks_completed_count",
                                  "tasks_failed_count"))
        self.pworkflow_update = upd(engine, s.plait_workflow, ("run_id",),
                                    ("outcome", "last_update", "records_dropped"))
        self.progress_clear = sa.delete(s.plait_progress).where(
            s.plait_progress.c.run_id == self.run_id)

    def _write(self, conn: sa.Connection, b: _Batch, now: float) -> None:
        ins = self.ins
        if not self.workflow_committed and self.workflow_rows is not None:
            ins["workflow"].run(conn, [self.workflow_rows[0]])
            ins["plait_workflow"].run(conn, [self.workflow_rows[1]])
        ins["task"].run(conn, list(b.tasks.values()))
        ins["plait_task"].run(conn, b.ptasks)
        ins["try"].run(conn, list(b.tries.values()))
        ins["status"].run(conn, b.status)
        ins["failure"].run(conn, b.failures)
        ins["resource"].run(conn, b.resources)
        ins["node"].run(conn, b.nodes)
        ins["block"].run(conn, b.blocks)
        self.task_end.run(conn, b.task_ends)
        self.try_end.run(conn, b.try_ends)
        self.try_host.run(conn, b.try_hosts)
        conn.execute(self.progress_clear)
        ins["progress"].run(conn, [(self.run_id, func, state, n)
                                   for func, states in self.counts.items()
                                   for state, n in states.items() if n])
        outcome, dropped = "running", self.dropped
        if b.workflow_end is not None:
            _, done_at, completed, failed, outcome, lost = b.workflow_end
            dropped += lost
            if done_at is not None:  # None: the script died, the run never completed
                self.workflow_done.run(conn, [(self.ts(done_at), completed, failed,
                                               self.run_id)])
        self.pworkflow_update.run(conn, [(outcome, self.ts(now), dropped, self.run_id)])

    def end(self, outcome: str) -> None:
        """The script is gone without a WORKFLOW_END (killed): record how the run ended."""
        self.batch.workflow_end = (R.WORKFLOW_END, None, 0, 0, outcome, 0)
        self.commit()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def stats(self) -> str:
        return json.dumps({"committed": self.committed, "dropped": self.dropped,
                           "live_tasks": len(self.live), "max_lag_s": round(self.max_lag, 3)})
