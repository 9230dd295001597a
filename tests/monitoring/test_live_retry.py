"""Retrying a failed task and what it blocked while the run is live: through the control
socket (MonitoringHub(live_retry=True)) and from the dashboard's button in Chromium."""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import chromium, dashboard
from monitored import monitored_kernel, rows
from plait import python_app
from plait.monitoring import MonitoringHub
from plait.monitoring._live_retry import request_retry
from waiting import wait_until


@python_app
def flaky(marker: str) -> str:
    if not os.path.exists(marker):
        raise FileNotFoundError(f"{marker} is missing")
    return "ok"


@python_app
def add(a: Any, b: int) -> Any:
    return f"{a}+{b}"


@python_app
def hold(gate: threading.Event) -> bool:
    return gate.wait(60)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as context:
        yield context


def states(url: str, ids: list[int]) -> dict[int, str]:
    found = rows(url, "SELECT task_id, task_status_name FROM status WHERE task_status_name "
                 "IN ('exec_done', 'failed', 'dep_fail')")
    return {t: s for t, s in found if t in ids}


def test_retry_through_the_control_socket(tmp_path: Path) -> None:
    url, marker = f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "marker")
    hub = MonitoringHub(logging_endpoint=url, live_retry=True)
    with monitored_kernel(str(tmp_path / "runinfo"), url, hub=hub) as dfk:
        bad = flaky(marker)
        last = add(add(bad, 1), 2)
        assert isinstance(last.exception(timeout=30), Exception)
        control = hub._current().control.path  # type: ignore[union-attr]
        refused = request_retry(control, last.tid)  # a blocked task is retried via its cause
        assert not refused["ok"] and f"task(s) {bad.tid} failed" in refused["error"]
        open(marker, "w").close()  # the cause is fixed; retry
        answer = request_retry(control, bad.tid)
        assert answer["ok"] and len(answer["tasks"]) == 3
        assert dfk.monitoring.flush(30)
        wait_until(lambda: (dfk.monitoring.flush(30) and
                            set(states(url, answer["tasks"]).values()) == {"exec_done"}), 30,
                   "the re-submitted tasks to succeed")
    assert not os.path.exists(control)


def test_dashboard_button_retries_a_failed_task_in_a_live_run(browser: Any,
                                                              tmp_path: Path) -> None:
    url, marker = f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "marker")
    hub = MonitoringHub(logging_endpoint=url, live_retry=True)
    db = str(tmp_path / "m.db")
    page = browser.new_page()
    with monitored_kernel(str(tmp_path / "runinfo"), url, hub=hub) as dfk:
        gate = threading.Event()
        running = hold(gate)
        bad = flaky(marker)
        add(bad, 1).exception(timeout=30)
        assert dfk.monitoring.flush(30)
        with dashboard(db) as base:
            page.goto(f"{base}#/run/{dfk.run_id}/task/{bad.tid}")
            page.wait_for_selector("[data-testid=retry]")
            open(marker, "w").close()
            page.click("[data-testid=retry]")
            page.wait_for_selector("[data-testid=retry-result]")
            result = page.text_content("[data-testid=retry-result]")
            assert result.startswith("re-submitted as task(s) "), result
            new = [int(x) for x in result.split("task(s) ")[1].split(", ")]
            wait_until(lambda: (dfk.monitoring.flush(30) and
                                set(states(url, new).values()) == {"exec_done"}), 30,
                       "the re-submitted tasks to succeed")
            page.wait_for_selector(f"[data-testid=graph-count][data-count='{5}']",
                                   timeout=30_000)
        gate.set()
        assert running.result(timeout=30) is True
    page.close()


def test_a_run_without_live_retry_says_how_to_retry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with monitored_kernel(str(tmp_path / "runinfo"), url) as dfk:
        bad = flaky(str(tmp_path / "missing"))
        bad.exception(timeout=30)
        assert dfk.monitoring.flush(30)
        with dashboard(str(tmp_path / "m.db")) as base:
            request = urllib.request.Request(
                f"{base}api/runs/{dfk.run_id}/tasks/{bad.tid}/retry", method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 409
    assert b"plait retry RUN --failed" in refused.value.read()
