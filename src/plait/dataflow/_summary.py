"""The real-time state of a run: counts per state and per app, and the failures so far.

``dfk.task_summary()`` returns a TaskSummary. Counts per state come from the kernel's own
counters; counts per app from an AppCounts, fed by the monitoring recorder when monitoring
is on, else subscribed by a progress display or at the first ``task_summary()`` call (then
it covers the tasks submitted from that call on, and ``by_app_complete`` says so).
"""

from __future__ import annotations

import html
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from plait.dataflow._events import TaskStateChanged
from plait.dataflow._failures import FailedTask
from plait.dataflow._states import FINAL_FAILURE_STATES, FINAL_STATES, States


class DataFlowKernel(Protocol):
    """What a summary reads of a kernel (the kernel imports this module, not the reverse)."""

    run_id: str

    @property
    def task_state_counts(self) -> dict[States, int]: ...

    @property
    def task_count(self) -> int: ...

    def failed_tasks(self) -> list[FailedTask]: ...

    def subscribe(self, callback: Callable[[TaskStateChanged], object]) -> Any: ...

_FINAL_NAMES = frozenset(s.name for s in FINAL_STATES)
_FAILED_NAMES = frozenset(s.name for s in FINAL_FAILURE_STATES)


class AppCounts:
    """Counts tasks per app and state from kernel events (about 0.4 µs per event).

    Subscribe it to a kernel, or feed it from another subscriber (the monitoring recorder
    counts inline, saving a callback per event) and register it with ``use_counter``.
    """

    def __init__(self) -> None:
        self.counts: dict[str, dict[States, int]] = {}
        self.since = time.time()
        self._lock = threading.Lock()

    def new_app(self, app: str) -> dict[States, int]:
        """The (zeroed) counters of ``app``, created on its first event."""
        with self._lock:
            return self.counts.setdefault(app, dict.fromkeys(States, 0))

    def __call__(self, ev: TaskStateChanged) -> None:
        counts = self.counts.get(ev.func_name)
        if counts is None:
            counts = self.new_app(ev.func_name)
        if ev.old is not ev.new:  # old is new: a submission, one more task
            counts[ev.old] -= 1
        counts[ev.new] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Tasks per app and state (states with no task left out)."""
        with self._lock:
            apps = list(self.counts.items())
        return {app: {s.name: n for s, n in list(states.items()) if n}
                for app, states in apps}


_attached: weakref.WeakKeyDictionary[Any, tuple[AppCounts, bool]] = (
    weakref.WeakKeyDictionary())
_attach_lock = threading.Lock()


def use_counter(dfk: DataFlowKernel, counter: AppCounts) -> None:
    """Make ``counter`` (fed by its owner from the first event) ``dfk``'s per-app counts."""
    with _attach_lock:
        _attached[dfk] = (counter, True)


def app_counts(dfk: DataFlowKernel) -> AppCounts:
    """The AppCounts of ``dfk``, subscribing one if it has none yet."""
    with _attach_lock:
        found = _attached.get(dfk)
        if found is None:
            counter = AppCounts()
            _attached[dfk] = (counter, dfk.task_count == 0)
            dfk.subscribe(counter)
            return counter
        return found[0]


@dataclass
class TaskSummary:
    """A run's state at one moment (``dfk.task_summary()``).

    Attributes:
        by_state: tasks in each state now (final states: ever reached), Parsl's names.
        by_app: the same per app name.
        by_app_complete: False when per-app counting started after tasks were submitted.
        failures: every failed or cancelled task so far, with its exception and the tasks
            it blocked.
    """

    run_id: str
    time: float
    elapsed: float
    by_state: dict[str, int]
    by_app: dict[str, dict[str, int]]
    by_app_complete: bool
    failures: list[FailedTask] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def finished(self) -> int:
        return sum(n for s, n in self.by_state.items() if s in _FINAL_NAMES)

    @property
    def failed(self) -> int:
        return sum(n for s, n in self.by_state.items() if s in _FAILED_NAMES)

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """(app, tasks, finished, failed, in flight) per app, then the total."""
        out = []
        for app, states in sorted(self.by_app.items()):
            total = sum(states.values())
            done = sum(n for s, n in states.items() if s in _FINAL_NAMES)
            bad = sum(n for s, n in states.items() if s in _FAILED_NAMES)
            out.append((app, total, done, bad, total - done))
        out.append(("(all)", self.total, self.finished, self.failed,
                    self.total - self.finished))
        return out

    def __str__(self) -> str:
        lines = [f"run {self.run_id}: {self.total} tasks, {self.finished} finished, "
                 f"{self.failed} failed, {self.elapsed:.1f} s"]
        lines += [f"  {app:<24} {n:>8} tasks {done:>8} done {bad:>6} failed {live:>8} live"
                  for app, n, done, bad, live in self.rows()]
        for failure in self.failures[:10]:
            lines.append(f"  task {failure.task_id} ({failure.func_name}) {failure.state.name}:"
                         f" {failure.exception!r}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A table for Jupyter."""
        head = "".join(f"<th>{h}</th>" for h in ("app", "tasks", "finished", "failed",
                                                 "in flight"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
                       + "</tr>" for row in self.rows())
        fails = "".join(f"<li>task {f.task_id} ({html.escape(f.func_name)}): "
                        f"{html.escape(repr(f.exception))}</li>" for f in self.failures[:20])
        return (f"<div class='plait-summary'><b>run {html.escape(self.run_id)}</b> "
                f"({self.elapsed:.1f} s)<table><tr>{head}</tr>{body}</table>"
                + (f"<ul>{fails}</ul>" if fails else "") + "</div>")


def summarize(dfk: DataFlowKernel, started: float | None = None) -> TaskSummary:
    """The TaskSummary of ``dfk`` now."""
    counter = app_counts(dfk)
    with _attach_lock:
        complete = _attached[dfk][1]
    now = time.time()
    by_state = {state.name: n for state, n in dfk.task_state_counts.items() if n}
    return TaskSummary(dfk.run_id, now, now - (started or counter.since), by_state,
                       counter.snapshot(), complete, dfk.failed_tasks())
