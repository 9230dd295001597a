"""Terminal views of a recorded run (rich renderables), for ``plait status`` and ``summary``."""

from __future__ import annotations

import datetime
import os
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from plait.monitoring._queries import STATE_ORDER, AppStats, Failure, Run, TryRow

STYLE = {"exec_done": "green", "memo_done": "green", "failed": "bold red",
         "dep_fail": "magenta", "cancelled": "yellow", "launched": "cyan", "running": "cyan",
         "pending": "dim", "fail_retryable": "yellow", "joining": "cyan",
         "staging_in": "blue", "staging_out": "blue"}
_OUTCOME = {"running": "cyan", "completed": "green", "interrupted": "yellow", "lost": "red"}


def seconds(value: float | None) -> str:
    """``12.3 s``, ``4 min 05 s``, ``2 h 10 min``."""
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if value < 3600:
        return f"{int(value // 60)} min {int(value % 60):02d} s"
    return f"{int(value // 3600)} h {int(value % 3600 // 60):02d} min"


def when(value: datetime.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def run_header(run: Run) -> Text:
    """Two lines: name, id and outcome; host, user, start, duration, task count."""
    text = Text()
    text.append(f"{run.name or 'unnamed'} ", style="bold")
    text.append(f"run {run.run_id}  ")
    text.append(run.outcome, style=_OUTCOME.get(run.outcome, ""))
    text.append(f"\n{run.user}@{run.host}  started {when(run.began)}  "
                f"{'took' if run.completed else 'running for'} {seconds(run.duration)}  "
                f"{run.task_count} tasks  {run.rundir}")
    if not run.completed and run.outcome == "running":  # refreshed every 5 s while alive
        text.append(f"\nlast heard {when(run.last_update)}", style="dim")
    return text


def counts_table(run: Run) -> Table:
    """Tasks per app (rows) and state (columns), with a total row."""
    states = [s for s in STATE_ORDER if any(s in c for c in run.counts.values())]
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("app")
    for state in states:
        table.add_column(state, justify="right", style=STYLE.get(state, ""))
    table.add_column("total", justify="right", style="bold")
    for app in sorted(run.counts):
        row = run.counts[app]
        table.add_row(app, *(str(row.get(s, 0) or "") for s in states),
                      str(sum(row.values())))
    totals = run.totals
    table.add_row("(all)", *(str(totals.get(s, 0) or "") for s in states),
                  str(sum(totals.values())), style="bold")
    return table


def runs_table(runs: list[Run]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for col in ("run id", "name", "started", "duration", "tasks", "failed", "outcome"):
        table.add_column(col)
    for run in runs:
        totals = run.totals
        failed = totals.get("failed", 0) + totals.get("dep_fail", 0)
        table.add_row(run.run_id[:8], run.name or "", when(run.began), seconds(run.duration),
                      str(run.task_count), Text(str(failed), style="red" if failed else ""),
                      Text(run.outcome, style=_OUTCOME.get(run.outcome, "")))
    return table


def app_stats_table(stats: list[AppStats]) -> Table:
    table = Table(show_edge=False, pad_edge=False, title="per app", title_justify="left")
    for col in ("app", "tasks", "done", "failed", "tries", "mean", "median", "max",
                "total time"):
        table.add_column(col, justify="left" if col == "app" else "right")
    for a in stats:
        done = a.states.get("exec_done", 0) + a.states.get("memo_done", 0)
        failed = a.states.get("failed", 0) + a.states.get("dep_fail", 0)
        table.add_row(a.app, str(a.tasks), str(done), Text(str(failed),
                      style="red" if failed else ""), str(a.tries), seconds(a.mean_s),
                      seconds(a.median_s), seconds(a.max_s), seconds(a.total_s))
    return table


def slowest_table(tries: list[TryRow]) -> Table:
    table = Table(show_edge=False, pad_edge=False, title="slowest tries",
                  title_justify="left")
    for col in ("task", "try", "app", "executor", "host", "duration"):
        table.add_column(col)
    for t in tries:
        table.add_row(str(t.task_id), str(t.try_id), t.app, t.executor, t.hostname or "-",
                      seconds(t.duration))
    return table


def failures_view(run: Run, failed: list[Failure], extra_files: list[str]) -> Group:
    """Root failures first, each with its cause, what it blocked and the files to open."""
    roots = [f for f in failed if f.state != "dep_fail"]
    blocked: dict[int, list[Failure]] = {}
    for f in failed:
        if f.state == "dep_fail":
            blocked.setdefault(f.root_cause_task if f.root_cause_task is not None else -1,
                               []).append(f)
    parts: list[Any] = [Text(f"failures: {len(roots)} failed, "
                             f"{sum(map(len, blocked.values()))} not run because of them",
                             style="bold red" if failed else "bold")]
    for f in roots:
        line = Text(f"\ntask {f.task_id} ({f.app}) {f.state}", style="bold")
        line.append(f": {f.exception_type or '?'}: {first_line(f.message)}", style="red")
        parts.append(line)
        deps = blocked.pop(f.task_id, [])
        if deps:
            ids = ", ".join(str(d.task_id) for d in deps[:12])
            more = f" and {len(deps) - 12} more" if len(deps) > 12 else ""
            parts.append(Text(f"  blocked {len(deps)} task(s): {ids}{more}"))
        if f.traceback:
            parts.append(Text("  " + last_frame(f.traceback), style="dim"))
        for label, path in (("stdout", f.stdout), ("stderr", f.stderr)):
            if path:
                exists = "" if os.path.exists(path) else " (missing)"
                parts.append(Text(f"  {label}: {path}{exists}"))
    for root, deps in blocked.items():  # roots outside the listed failures
        parts.append(Text(f"\n{len(deps)} task(s) not run: dependency task {root} failed"))
    if failed:
        parts.append(Text("\nlogs: " + "  ".join(p for p in extra_files if os.path.exists(p))))
    return Group(*parts)


def first_line(message: str | None, width: int = 300) -> str:
    line = (message or "").strip().splitlines()[0] if message and message.strip() else ""
    return line if len(line) <= width else line[:width] + "..."


def last_frame(traceback: str) -> str:
    """The traceback's last 'File ..., line N, in f' line: where the failure happened."""
    frames = [ln.strip() for ln in traceback.splitlines() if ln.strip().startswith("File ")]
    return frames[-1] if frames else ""
