"""Live views of the current run for notebooks and terminals.

    RunWidget (ipywidgets): per-app progress bars, failures and the task graph (SVG, cells
    of many tasks when large), refreshed by one daemon thread until the run ends.
    progress() (rich): per-app progress bars in a terminal, or in Jupyter through rich.

Both read ``dfk.task_summary()``; the graph needs monitoring on (it comes from the
database the run writes).
"""

from __future__ import annotations

import html
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.dataflow._kernel import DataFlowKernel
    from plait.dataflow._summary import TaskSummary

COLORS = {"pending": "#b8c0c8", "staging_in": "#c6dbef", "staging_out": "#9ecae1",
          "launched": "#6baed6", "running": "#2171b5",
          "joining": "#9e9ac8", "fail_retryable": "#fd8d3c", "exec_done": "#41ab5d",
          "memo_done": "#a1d99b", "failed": "#d7301f", "dep_fail": "#c51b8a",
          "cancelled": "#fdae6b"}
SEVERITY = ["exec_done", "memo_done", "pending", "staging_in", "staging_out", "launched",
            "joining", "running", "fail_retryable", "cancelled", "dep_fail",
            "failed"]  # least to most alarming
_FINAL = ("exec_done", "memo_done", "failed", "dep_fail", "cancelled")
_FAILED = ("failed", "dep_fail", "cancelled")


def _current(dfk: DataFlowKernel | None) -> DataFlowKernel:
    if dfk is not None:
        return dfk
    from plait.dataflow._loader import DataFlowKernelLoader

    return DataFlowKernelLoader.dfk()


def progress_html(summary: TaskSummary) -> str:
    """One bar per app: finished (green), failed (red) and in flight, with counts."""
    rows = []
    for app, states in sorted(summary.by_app.items()) or [("(all)", summary.by_state)]:
        total = sum(states.values()) or 1
        parts = "".join(
            f"<div title='{s}: {n}' style='width:{100 * n / total:.2f}%;background:"
            f"{COLORS.get(s, '#888')}'></div>" for s in
            ("exec_done", "memo_done", "failed", "dep_fail", "cancelled", "running",
             "launched", "pending") if (n := states.get(s, 0)))
        done = sum(states.get(s, 0) for s in _FINAL)
        bad = sum(states.get(s, 0) for s in _FAILED)
        rows.append(f"<tr><td>{html.escape(app)}</td><td style='width:60%'><div "
                    f"style='display:flex;height:12px;background:#eee'>{parts}</div></td>"
                    f"<td>{done}/{sum(states.values())}</td><td style='color:#d7301f'>"
                    f"{f'{bad} failed' if bad else ''}</td></tr>")
    failures = "".join(f"<li>task {f.task_id} ({html.escape(f.func_name)}): "
                       f"{html.escape(repr(f.exception))[:300]}</li>"
                       for f in summary.failures[:10])
    return (f"<div class='plait-progress'><b>run {summary.run_id[:8]}</b>: "
            f"{summary.finished}/{summary.total} finished, {summary.failed} failed, "
            f"{summary.elapsed:.1f} s<table>{''.join(rows)}</table>"
            + (f"<ul>{failures}</ul>" if failures else "") + "</div>")


def graph_svg(data: dict[str, Any], width: int = 640, height: int = 240,
              max_nodes: int = 3000) -> str:
    """The task graph as SVG: tasks in columns by level; over ``max_nodes`` tasks, a grid
    of cells each showing the most alarming state among its tasks."""
    n = data["count"]
    if not n:
        return "<svg data-tasks='0' width='0' height='0'></svg>"
    levels, level, row, states = data["levels"], data["level"], data["row"], data["state"]
    names = data["states"]
    rows_per_col = max(1, int((max(levels) * len(levels) * height / width) ** 0.5) or 1)
    col_of, x = [], 0
    for size in levels:
        col_of.append(x)
        x += -(-size // rows_per_col) + 1
    cols, nrows = max(1, x), max(1, min(rows_per_col, max(levels)))
    cell_w, cell_h = width / cols, height / nrows
    grid = n > max_nodes and (cell_w < 3 or cell_h < 3)
    if grid:  # level of detail: 4-pixel cells, worst state wins
        gx, gy = width // 4, height // 4
        cells: dict[tuple[int, int], int] = {}
        for i in range(n):
            cx = int((col_of[level[i]] + row[i] // rows_per_col) * cell_w / 4)
            cy = int((row[i] % rows_per_col) * cell_h / 4)
            sev = SEVERITY.index(names[states[i]]) if names[states[i]] in SEVERITY else 2
            key = (min(cx, gx - 1), min(cy, gy - 1))
            cells[key] = max(cells.get(key, -1), sev)
        marks = [f"<rect x='{cx * 4}' y='{cy * 4}' width='3.5' height='3.5' "
                 f"fill='{COLORS[SEVERITY[sev]]}'/>" for (cx, cy), sev in cells.items()]
    else:
        size = max(1.5, min(cell_w, cell_h) * 0.8)
        marks = [f"<rect x='{(col_of[level[i]] + row[i] // rows_per_col) * cell_w:.1f}' "
                 f"y='{(row[i] % rows_per_col) * cell_h:.1f}' width='{size:.1f}' "
                 f"height='{size:.1f}' fill='{COLORS.get(names[states[i]], '#888')}'>"
                 f"<title>task {data['ids'][i]} {html.escape(data['apps'][data['app'][i]])}"
                 f" {names[states[i]]}</title></rect>" for i in range(n)]
    return (f"<svg xmlns='http://www.w3.org/2000/svg' data-tasks='{n}' "
            f"data-marks='{len(marks)}' width='{width}' height='{height}'>"
            + "".join(marks) + "</svg>")


class RunWidget:
    """A notebook widget of the current run: progress per app, failures, the task graph.

    ``display(RunWidget())`` in Jupyter; it refreshes itself every ``refresh`` seconds
    until the run's tasks have all finished and the kernel is cleaned up (or ``close()``).
    Needs ipywidgets; the graph needs ``Config(monitoring=MonitoringHub(...))``.
    """

    def __init__(self, dfk: DataFlowKernel | None = None, refresh: float = 1.0) -> None:
        import ipywidgets

        self.dfk = _current(dfk)
        self.progress = ipywidgets.HTML()
        self.graph = ipywidgets.HTML()
        self.widget = ipywidgets.VBox([self.progress, self.graph])
        self._stop = threading.Event()
        self._refresh_s = refresh
        self.refresh()
        self._thread = threading.Thread(target=self._run, name="plait-notebook-widget",
                                        daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        """Redraw from the run's current state."""
        self.progress.value = progress_html(self.dfk.task_summary())
        url = getattr(self.dfk.monitoring, "url", None)
        if url:
            self.graph.value = self._graph(url)

    def _graph(self, url: str) -> str:
        from plait.monitoring._db import open_engine
        from plait.monitoring.dashboard._data import graph

        engine = open_engine(url)
        try:
            with engine.connect() as conn:
                return graph_svg(graph(conn, self.dfk.run_id))
        except Exception as exc:  # not written yet, or an outage: the progress still shows
            return f"<i>graph not available yet ({html.escape(type(exc).__name__)})</i>"
        finally:
            engine.dispose()

    def _run(self) -> None:
        while not self._stop.wait(self._refresh_s):  # a display refresh period
            try:
                self.refresh()
            except Exception:  # e.g. the notebook's kernel is shutting down: stop quietly
                return
            if self.dfk.cleanup_called:  # the run is over; this was the last refresh
                return

    def close(self) -> None:
        """Stop refreshing."""
        self._stop.set()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


class progress:  # lower case: used like a function, `with plait.monitoring.progress():`
    """Per-app progress bars for the current run (rich; a terminal or Jupyter), until the
    ``with`` block ends."""

    def __init__(self, dfk: DataFlowKernel | None = None, refresh_per_second: float = 4
                 ) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.dfk = _current(dfk)
        self._bars: dict[str, Any] = {}
        self._display = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[failed]}"),
                                 refresh_per_second=refresh_per_second)
        self._stop = threading.Event()
        self._period = 1.0 / refresh_per_second
        self._thread = threading.Thread(target=self._run, name="plait-progress", daemon=True)

    def update(self) -> None:
        """Redraw the bars from the kernel's task summary now."""
        summary = self.dfk.task_summary()
        for app, states in sorted(summary.by_app.items()):
            total = sum(states.values())
            done = sum(states.get(s, 0) for s in _FINAL)
            bad = sum(states.get(s, 0) for s in _FAILED)
            failed = f"[red]{bad} failed[/red]" if bad else ""
            if app not in self._bars:
                self._bars[app] = self._display.add_task(app, total=total, failed=failed)
            self._display.update(self._bars[app], total=total, completed=done, failed=failed)

    def _run(self) -> None:
        while not self._stop.wait(self._period):  # a display refresh period
            self.update()

    def __enter__(self) -> progress:
        self._display.start()
        self.update()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.update()
        self._display.stop()
