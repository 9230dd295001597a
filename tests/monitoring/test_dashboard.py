"""The dashboard and the report, end to end in headless Chromium (one browser per module):
a real run's database, the graph's task count, a failed task's exception from the failures
list and from a click on the graph, live updates while a run goes on, the HTML report."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from browser import chromium, dashboard
from monitored import add, explode, monitored_kernel, wait_for
from plait import bash_app
from plait.cli._main import main


@bash_app
def greet(stdout: str | None = None) -> str:
    return "echo hello from the task"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as context:
        yield context


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, int]]:
    """A run with a chain, a failure, two tasks blocked by it, and a task's stdout file."""
    base = tmp_path_factory.mktemp("dash")
    db = base / "runinfo" / "monitoring.db"
    with monitored_kernel(str(base / "runinfo"), f"sqlite:///{db}") as dfk:
        chain = add(0, 1)
        for _ in range(9):
            chain = add(chain, 1)
        [f.result(timeout=30) for f in [add(i) for i in range(15)]]
        bad = explode("the input was negative")
        blocked = [add(bad), add(bad, 2)]
        out = greet(stdout=str(base / "greet.out"))
        out.result(timeout=30)
        chain.result(timeout=30)
        for fut in blocked:
            fut.exception(timeout=30)
    return str(db), dfk.run_id, {"bad": bad.tid, "greet": out.tid, "tasks": 29}


def test_dashboard_shows_the_run_its_graph_and_a_failure(
        browser: Any, finished_run: tuple[str, str, dict[str, int]], tmp_path: Path) -> None:
    db, run_id, ids = finished_run
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with dashboard(db) as url:
        page.goto(url)
        page.click(f"a[href='#/run/{run_id}']")
        page.wait_for_selector("[data-testid=graph-count][data-count]")
        assert page.text_content("[data-testid=graph-count]") == f"{ids['tasks']} tasks"
        assert page.text_content("[data-testid=total-tasks]") == str(ids["tasks"])
        assert page.text_content("[data-testid=outcome]") == "completed"
        assert int(page.get_attribute("#graph", "data-marks") or 0) > 0
        page.wait_for_selector("#gantt[data-bars]")
        assert page.get_attribute("#gantt", "data-bars") == str(ids["tasks"] - 2)

        failure = page.locator(f".failure[data-task='{ids['bad']}']")
        assert "blocked 2 task(s)" in failure.text_content()
        failure.click()
        page.wait_for_selector("[data-testid=exception]")
        assert page.text_content("[data-testid=exception]") == "the input was negative"
        assert page.text_content("[data-testid=task-state]") == "failed"
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)

        page.click("#detail-close")
        page.wait_for_selector("#detail", state="hidden")
        spot = page.evaluate(f"window.plaitDashboard.graph.focus({ids['bad']})")
        box = page.locator("#graph").bounding_box()
        page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
        page.wait_for_selector(f"text=task {ids['bad']}")
        assert page.text_content("[data-testid=exception]") == "the input was negative"

        page.goto(f"{url}#/run/{run_id}/task/{ids['greet']}")
        page.wait_for_selector("[data-testid=stdout]")
        assert "hello from the task" in page.text_content("[data-testid=stdout]")
    assert errors == []
    page.close()


def test_dashboard_updates_while_the_run_goes_on(browser: Any, tmp_path: Path) -> None:
    db = tmp_path / "monitoring.db"
    page = browser.new_page()
    with ExitStack() as served:  # the dashboard outlives the run: it must see it complete
        with monitored_kernel(str(tmp_path / "runinfo"), f"sqlite:///{db}") as dfk:
            gate = threading.Event()
            waiting = wait_for(gate)
            assert dfk.monitoring.flush(30)
            url = served.enter_context(dashboard(str(db)))
            page.goto(f"{url}#/run/{dfk.run_id}")
            page.wait_for_selector("[data-testid=graph-count][data-count='1']")
            assert page.text_content("[data-testid=outcome]") == "running"
            assert "last heard" in page.text_content("#run-header")
            assert page.is_visible("#live")
            [f.result(timeout=30) for f in [add(i) for i in range(5)]]
            page.wait_for_selector("[data-testid=graph-count][data-count='6']",
                                   timeout=30_000)
            gate.set()
            assert waiting.result(timeout=30) is True
        page.wait_for_function("document.querySelector('[data-testid=outcome]')"
                               ".textContent === 'completed'", timeout=30_000)
        assert not page.is_visible("#live")
    page.close()


def test_report_is_one_self_contained_file(
        browser: Any, finished_run: tuple[str, str, dict[str, int]], tmp_path: Path) -> None:
    db, run_id, ids = finished_run
    report = tmp_path / "run.html"
    assert main(["report", db, "-o", str(report)]) == 0
    html = report.read_text()
    assert "<script src=" not in html and 'rel="stylesheet"' not in html
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_selector("[data-testid=graph-count][data-count]")
    assert page.text_content("[data-testid=graph-count]") == f"{ids['tasks']} tasks"
    assert "the input was negative" in page.text_content("#failures")
    page.click(f".failure[data-task='{ids['bad']}']")
    page.wait_for_selector("[data-testid=exception]")
    assert page.text_content("[data-testid=exception]") == "the input was negative"
    assert run_id in page.text_content("#run-header")
    assert [r for r in requests if not r.startswith("file:")] == []
    page.close()


def test_prometheus_endpoint_and_api_errors(
        finished_run: tuple[str, str, dict[str, int]]) -> None:
    import json
    import urllib.error
    import urllib.request

    db, run_id, _ = finished_run
    with dashboard(db) as url:
        with urllib.request.urlopen(f"{url}metrics", timeout=30) as response:
            text = response.read().decode()
        assert (f'plait_tasks{{app="explode",run_id="{run_id}",state="failed",'
                f'workflow="monitored.py"}} 1.0') in text
        assert 'state="exec_done"' in text and "# TYPE plait_blocks gauge" in text
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}api/runs/{run_id}/tasks/99999", timeout=30)
        assert missing.value.code == 404
        with urllib.request.urlopen(f"{url}api/runs", timeout=30) as response:
            assert [r["run_id"] for r in json.load(response)] == [run_id]


def test_a_slow_graph_read_does_not_hold_up_the_first_paint(
        finished_run: tuple[str, str, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from plait.monitoring.dashboard import _data as D

    db, run_id, ids = finished_run
    reading, release = threading.Event(), threading.Event()
    real_graph = D.graph

    def slow_graph(conn: Any, run: str) -> Any:  # a 100,000-task graph takes seconds
        reading.set()
        assert release.wait(60)
        return real_graph(conn, run)

    monkeypatch.setattr(D, "graph", slow_graph)
    with dashboard(db) as url, ThreadPoolExecutor(1) as pool:
        try:
            graph = pool.submit(lambda: urllib.request.urlopen(
                f"{url}api/runs/{run_id}/graph", timeout=60).read())
            assert reading.wait(30), "the graph read did not start"
            with urllib.request.urlopen(f"{url}api/runs/{run_id}", timeout=10) as response:
                assert json.load(response)["run"]["tasks"] == ids["tasks"]
            with urllib.request.urlopen(url, timeout=10) as response:
                assert b"plait dashboard" in response.read()
        finally:
            release.set()
        assert json.loads(graph.result(timeout=60))["count"] == ids["tasks"]
