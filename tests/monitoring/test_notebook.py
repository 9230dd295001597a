"""Jupyter: a notebook that runs a monitored workflow and shows RunWidget (live progress
and the task graph) and the run's summary, executed for real with nbclient."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    """
import plait
from plait import Config, ThreadPoolExecutor, python_app
from plait.monitoring import MonitoringHub, RunWidget, progress

@python_app
def square(x):
    return x * x

@python_app
def explode():
    raise ValueError("broken input")

dfk = plait.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=RUN_DIR,
                        monitoring=MonitoringHub(logging_endpoint=DB_URL)))
widget = RunWidget(refresh=0.2)
widget
""",
    """
futures = [square(i) for i in range(40)]
bad = explode()
blocked = square(bad)
with progress():
    assert sum(f.result(timeout=60) for f in futures) == sum(i * i for i in range(40))
    blocked.exception(timeout=60)
assert dfk.monitoring.flush(30)
widget.refresh()
print(widget.progress.value)
print(re.search("data-tasks='(\\\\d+)'", widget.graph.value).group(0))
""",
    "dfk.task_summary()",
    "dfk.cleanup()",
]


@pytest.mark.timeout(180)
def test_notebook_shows_progress_graph_and_summary(tmp_path: Path) -> None:
    setup = (f"import re\nRUN_DIR = {str(tmp_path / 'runinfo')!r}\n"
             f"DB_URL = {'sqlite:///' + str(tmp_path / 'monitoring.db')!r}\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(setup + CELLS[0])] + [
        nbformat.v4.new_code_cell(c) for c in CELLS[1:]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.km_kwargs = {"kernel_cmd": [sys.executable, "-m", "ipykernel_launcher", "-f",
                                       "{connection_file}"]}
    client.execute()

    widget_out = nb.cells[0].outputs[0]
    assert "application/vnd.jupyter.widget-view+json" in widget_out["data"]
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.output_type ==
                      "stream")
    assert "<td>square</td>" in printed and "<td>41/41</td>" in printed  # 40 + 1 blocked
    assert "broken input" in printed
    assert "data-tasks='42'" in printed
    summary = nb.cells[2].outputs[0]["data"]
    assert "text/html" in summary and "square" in summary["text/html"]
    assert re.search(r"<td>explode</td><td>1</td><td>1</td><td>1</td>", summary["text/html"])
