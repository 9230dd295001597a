"""Turns records into rows and writes them, one transaction per batch (database process).

A task's row (and its tries' rows) is held back up to ``HOLD_S`` after it is received: a
task that ends by then (most short tasks do, queue wait included) is inserted once, finished;
one still running is inserted when its hold is over, and its end is an UPDATE by primary key
(UPDATEs cost as much as the INSERTs: holding takes a third of the writer's work off a
pilot run, whose tasks wait in the queue). A flush, the end of input and ``end`` write every
row held. The writer keeps only the tasks still running in memory.

A failed transaction is an outage: its rows are dropped and counted, the next attempt
waits ``RETRY_S``, and the run's workflow row goes into every batch until one commits (the
tables that reference it need it first). Nothing here ever raises into the loop.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from plait.dataflow._states import States
from plait.monitoring import _dbapi
from plait.monitoring import _records as R
from plait.monitoring._sqlite_ddl import COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

log = logging.getLogger("plait.monitoring.writer")
RETRY_S = 10.0
HOLD_S = 2.0  # how long a live task's rows may wait to be inserted with its end
MAX_HELD = 200_000  # rows of live tasks held at most (the oldest go first beyond)
_GROUP = 32  # rows per multi-row INSERT in the tables every task writes to
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
_RESOURCE_COLS = COLUMNS["resource"]
_NODE_COLS = tuple(c for c in COLUMNS["node"] if c != "id")
_BLOCK_COLS = ("run_id", "executor_label", "block_id", "job_id", "timestamp", "status")
_WORKFLOW_COLS = COLUMNS["workflow"]
_PWORKFLOW_COLS = ("run_id", "script", "argv", "cwd", "retry_of", "control", "pid",
                   "python_version", "plait_version", "executors", "outcome", "last_update",
                   "records_dropped")
_PROGRESS_COLS = ("run_id", "task_func_name", "task_status_name", "count")

# positions in the row lists kept for tasks and tries of the current batch
_T_HASH, _T_RETURNED, _T_FAILS, _T_COST = 5, 12, 13, 14
_Y_BLOCK, _Y_HOST, _Y_RETURNED, _Y_HISTORY, _Y_JOINS = 3, 4, 8, 9, 10


# a live task: [its app's counts per state, its state, its executor, its latest try or -1]
_L_COUNTS, _L_STATE, _L_EXECUTOR, _L_TRY = 0, 1, 2, 3
_TRY_ENDS = frozenset({"exec_done", "failed", "cancelled"})
_TASK, _STATE, _FINAL = R.TASK, R.STATE, R.FINAL
_BY_TASK = itemgetter(0)  # of a status row: its task id


@dataclass
class _Batch:
    """Rows of the current transaction."""

    tasks: list[list[Any]] = field(default_factory=list)
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
        self.engine: Any = None  # a SQLAlchemy Engine, if the URL is not a plain SQLite file
        self.sqlite: Any = None  # else the sqlite3 connection (see _dbapi)
        self.live: dict[int, list[Any]] = {}
        self.placed: set[tuple[int, int]] = set()  # tries whose host is recorded; live ones
        self.counts: dict[str, dict[str, int]] = {}  # app -> state -> tasks in it now
        self.batch = _Batch()
        # rows of live tasks and tries not inserted yet, and when each task's hold began
        self.held_tasks: dict[int, list[Any]] = {}
        self.held_tries: dict[tuple[int, int], list[Any]] = {}
        self.hold_order: deque[tuple[float, int]] = deque()
        self.workflow_rows: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None
        self.workflow_committed = False
        self.dropped = 0
        self.committed = 0
        self.broken_since: float | None = None
        self.retry_at = 0.0
        self.newest = 0.0  # the latest event time seen: how far behind the writer is
        self.max_lag = 0.0
        self.ts = _dbapi.timestamp_converter(_dbapi.backend_of(url))

    # -- records → rows -----------------------------------------------------------------------
    def add(self, records: list[tuple[Any, ...]]) -> None:
        """Turn records into rows of the current batch. The three kinds every task sends
        (TASK, STATE, FINAL: ~100,000 a second on a busy run) are handled inline, in one
        loop over locals; the others by their handler."""
        b, run, ts, names, live = self.batch, self.run_id, self.ts, _NAMES, self.live
        tasks, tries, status = self.held_tasks, self.held_tries, b.status.append
        handlers, counts_of, end_try = self._handlers, self.counts, self._end_try
        hold = self.hold_order.append
        newest, now = self.newest, time.monotonic()
        for rec in records:
            kind = rec[0]
            if kind == _STATE:
                _, tid, code, t, try_id = rec
                name = names[code]
                when = ts(t)
                status((tid, name, when, run, try_id))
                newest = t
                entry = live.get(tid)
                if entry is None:
                    continue
                counts = entry[_L_COUNTS]
                counts[entry[_L_STATE]] -= 1
                counts[name] += 1
                entry[_L_STATE] = name
                if name == "launched":
                    entry[_L_TRY] = try_id
                    tries[(tid, try_id)] = [try_id, tid, run, None, None, entry[_L_EXECUTOR],
                                            when, None, None, None, None]
                    if tid not in tasks:  # a retry of a task inserted already
                        hold((now, tid))
                elif name == "fail_retryable" and entry[_L_TRY] >= 0:
                    end_try(tid, entry[_L_TRY], when, None)
            elif kind == _TASK:
                (_, tid, func, t, executor, memoize, depends, stdout, stderr, inputs, outputs,
                 args, walltime) = rec
                when = ts(t)
                tasks[tid] = [tid, run, depends, func, "True" if memoize else "False", None,
                              inputs, outputs, None, stdout, stderr, when, None, 0, 0.0]
                hold((now, tid))
                if args is not None or walltime is not None:
                    b.ptasks.append((run, tid, args, walltime))
                status((tid, "pending", when, run, 0))
                counts = counts_of.get(func)
                if counts is None:
                    counts = counts_of[func] = dict.fromkeys(names.values(), 0)
                counts["pending"] += 1
                live[tid] = [counts, "pending", executor, -1]
                newest = t
            elif kind == _FINAL:
                _, tid, code, t, try_id, fails, cost, hashsum, joins = rec
                name = names[code]
                when = ts(t)
                status((tid, name, when, run, try_id))
                newest = t
                row = tasks.pop(tid, None)
                if row is not None:
                    row[_T_HASH], row[_T_RETURNED], row[_T_FAILS], row[_T_COST] = (
                        hashsum, when, fails, cost)
                    b.tasks.append(row)
                else:
                    b.task_ends.append((hashsum, when, fails, cost, tid, run))
                entry = live.pop(tid, None)
                if entry is None:
                    continue
                last_try = entry[_L_TRY]
                if last_try >= 0 and self.placed:
                    for k in range(last_try + 1):
                        self.placed.discard((tid, k))
                counts = entry[_L_COUNTS]
                counts[entry[_L_STATE]] -= 1
                counts[name] += 1
                ends_try = last_try == try_id and name in _TRY_ENDS
                trow = tries.pop((tid, last_try), None) if last_try >= 0 else None
                if trow is None:
                    if ends_try:
                        end_try(tid, try_id, when, joins)
                else:  # held: it goes out finished, with its earlier tries
                    if ends_try:
                        trow[_Y_RETURNED], trow[_Y_JOINS] = when, joins
                    b.tries[(tid, last_try)] = trow
                    if last_try:
                        self._release_tries(tid, last_try - 1)
            else:
                self.newest = newest
                handlers[kind](self, rec)
                newest = self.newest
        self.newest = newest
        b.records += len(records)

    def _workflow(self, r: tuple[Any, ...]) -> None:
        (_, run_id, name, version, began, host, user, rundir, script, argv, cwd, retry_of,
         control, pid, python, version_plait, executors) = r
        when = self.ts(began)
        self.workflow_rows = (
            (run_id, name, version, when, None, host, user, rundir, 0, 0),
            (run_id, script, argv, cwd, retry_of, control, pid, python, version_plait,
             executors, "running", when, 0))
        self.newest = max(self.newest, began)

    def _release_tries(self, tid: int, last_try: int) -> None:
        """Move the held rows of task ``tid``'s tries into the batch."""
        held, out = self.held_tries, self.batch.tries
        for k in range(last_try + 1):
            row = held.pop((tid, k), None)
            if row is not None:
                out[(tid, k)] = row

    def _release_old(self, everything: bool) -> None:
        """Move into the batch the held rows whose hold is over (all if ``everything``)."""
        order, tasks, out = self.hold_order, self.held_tasks, self.batch.tasks
        deadline = time.monotonic() - HOLD_S
        while order and (everything or order[0][0] <= deadline
                         or len(tasks) + len(self.held_tries) > MAX_HELD):
            _, tid = order.popleft()
            row = tasks.pop(tid, None)
            if row is not None:
                out.append(row)
            entry = self.live.get(tid)
            if self.held_tries and entry is not None:
                self._release_tries(tid, entry[_L_TRY])
        if everything and self.held_tries:  # (tries of tasks no longer live: none expected)
            self.batch.tries.update(self.held_tries)
            self.held_tries.clear()

    def _held_try(self, tid: int, try_id: int) -> list[Any] | None:
        key = (tid, try_id)
        row = self.held_tries.get(key)
        return row if row is not None else self.batch.tries.get(key)

    def _end_try(self, tid: int, try_id: int, when: Any, joins: str | None) -> None:
        row = self._held_try(tid, try_id)
        if row is not None:
            row[_Y_RETURNED], row[_Y_JOINS] = when, joins
        else:
            self.batch.try_ends.append((when, joins, try_id, tid, self.run_id))

    def _failure(self, r: tuple[Any, ...]) -> None:
        _, tid, try_id, t, kind, message, tb, root = r
        self.batch.failures.append((self.run_id, tid, try_id, self.ts(t), kind, message, tb,
                                    root))
        row = self._held_try(tid, try_id)
        if row is not None:
            row[_Y_HISTORY] = f"{kind}: {message}"[:1000]

    def _resource(self, r: tuple[Any, ...]) -> None:
        (_, tid, try_id, t, interval, host, block, pid, mem_pct, children, user, system,
         vms, rss, read, write, status, cpu, vol, invol) = r
        b = self.batch
        b.resources.append((try_id, tid, self.run_id, self.ts(t), interval, pid, mem_pct,
                            children, user, system, vms, rss, read, write, status, cpu, vol,
                            invol))
        row = self._held_try(tid, try_id)
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
        R.WORKFLOW: _workflow, R.FAILURE: _failure, R.RESOURCE: _resource, R.NODE: _node,
        R.BLOCK: _block, R.WORKFLOW_END: _workflow_end, R.FLUSH: _flush,
    }

    # -- rows → database ----------------------------------------------------------------------
    def pending(self) -> int:
        """Records waiting for the next commit (rows held back not counted)."""
        return self.batch.records

    def hold_ends(self) -> float | None:
        """When (``time.monotonic()``) the oldest hold is over; None if no row is held."""
        return self.hold_order[0][0] + HOLD_S if self.hold_order else None

    def commit(self, everything: bool = True, touch: bool = False) -> None:
        """Write the current batch in one transaction, with the held rows whose hold is
        over (all of them if ``everything``); on failure drop it (an outage). ``touch``:
        commit even an empty batch, which refreshes the run's ``last_update``."""
        self._release_old(everything)
        batch, self.batch = self.batch, _Batch()
        if (not batch.records and not batch.tasks and not batch.tries and not touch
                and batch.workflow_end is None and self.workflow_committed):
            return
        now = time.time()
        if self.broken_since is not None and now < self.retry_at:
            self.dropped += batch.records
            return
        try:
            with self._transaction() as dbapi:
                self._write(dbapi, batch, now)
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
        if _dbapi.sqlite_path(self.url) is not None:
            return self.url  # no password to hide
        import sqlalchemy as sa

        return sa.make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A driver connection in a transaction: committed on leaving, rolled back on an
        error (connecting first if needed)."""
        self._connect()
        if self.sqlite is not None:
            conn = self.sqlite
            conn.execute("BEGIN")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return
        with self.engine.begin() as conn:
            yield conn.connection.dbapi_connection

    def _connect(self) -> None:
        if self.engine is not None or self.sqlite is not None:
            return
        path = _dbapi.sqlite_path(self.url)
        if path is not None:
            self.sqlite = _dbapi.open_sqlite(path)
            self._prepare(_dbapi.sqlite_insert, _dbapi.sqlite_update, _dbapi.sqlite_delete)
            return
        from plait.monitoring import _db
        from plait.monitoring import _schema as s

        engine = _db.open_engine(self.url, create_dirs=True)
        try:
            _db.ensure_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        self.engine = engine
        tables = s.metadata.tables
        self._prepare(lambda table, cols, group=1: _db.insert_ignoring_duplicates(
                          engine, tables[table], cols, group),
                      lambda table, key, cols: _db.update_by_key(engine, tables[table], key,
                                                                 cols),
                      lambda table, key: _db.delete_by_key(engine, tables[table], key))

    def _prepare(self, ins: Callable[..., _dbapi.Statement],
                 upd: Callable[[str, Sequence[str], Sequence[str]], _dbapi.Statement],
                 delete: Callable[[str, Sequence[str]], _dbapi.Statement]) -> None:
        """The writer's statements, made by ``ins(table, columns, group)``,
        ``upd(table, key, columns)`` and ``delete(table, key)``."""
        self.ins = {table: ins(table, cols, group) for table, cols, group in (
            ("workflow", _WORKFLOW_COLS, 1), ("plait_workflow", _PWORKFLOW_COLS, 1),
            ("task", _TASK_COLS, _GROUP), ("plait_task", _PTASK_COLS, _GROUP),
            ("try", _TRY_COLS, _GROUP), ("status", _STATUS_COLS, _GROUP),
            ("plait_failure", _FAILURE_COLS, 1), ("resource", _RESOURCE_COLS, _GROUP),
            ("node", _NODE_COLS, 1), ("block", _BLOCK_COLS, 1),
            ("plait_progress", _PROGRESS_COLS, 1))}
        self.task_end = upd("task", ("task_id", "run_id"),
                            ("task_hashsum", "task_time_returned", "task_fail_count",
                             "task_fail_cost"))
        self.try_end = upd("try", ("try_id", "task_id", "run_id"),
                           ("task_try_time_returned", "task_joins"))
        self.try_host = upd("try", ("try_id", "task_id", "run_id"), ("hostname", "block_id"))
        self.workflow_done = upd("workflow", ("run_id",),
                                 ("time_completed", "tasks_completed_count",
                                  "tasks_failed_count"))
        self.pworkflow_update = upd("plait_workflow", ("run_id",),
                                    ("outcome", "last_update", "records_dropped"))
        self.progress_clear = delete("plait_progress", ("run_id",))

    def _write(self, conn: Any, b: _Batch, now: float) -> None:
        """The batch's rows, on the driver connection ``conn`` in a transaction."""
        ins = self.ins
        if not self.workflow_committed and self.workflow_rows is not None:
            ins["workflow"].run(conn, [self.workflow_rows[0]])
            ins["plait_workflow"].run(conn, [self.workflow_rows[1]])
        ins["task"].run(conn, b.tasks)
        ins["plait_task"].run(conn, b.ptasks)
        ins["try"].run(conn, list(b.tries.values()))
        b.status.sort(key=_BY_TASK)  # ~key order: each insert lands next to the last one
        ins["status"].run(conn, b.status)
        ins["plait_failure"].run(conn, b.failures)
        ins["resource"].run(conn, b.resources)
        ins["node"].run(conn, b.nodes)
        ins["block"].run(conn, b.blocks)
        self.task_end.run(conn, b.task_ends)
        self.try_end.run(conn, b.try_ends)
        self.try_host.run(conn, b.try_hosts)
        self.progress_clear.run(conn, [(self.run_id,)])
        ins["plait_progress"].run(conn, [(self.run_id, func, state, n)
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
        if self.sqlite is not None:
            self.sqlite.close()

    def stats(self) -> str:
        return json.dumps({"committed": self.committed, "dropped": self.dropped,
                           "live_tasks": len(self.live), "max_lag_s": round(self.max_lag, 3)})
