"""Staging tasks are visible to monitoring: their states are in the status table."""

from __future__ import annotations

from pathlib import Path

import plait
from monitored import rows
from plait import Config, File, ThreadPoolExecutor, python_app
from plait.data_provider.ftp import FTPSeparateTaskStaging
from plait.data_provider.http import HTTPSeparateTaskStaging
from plait.monitoring import MonitoringHub
from staging_sites import Site


@python_app
def copy(inputs: list[File] = (), outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    Path(outputs[0]).write_bytes(Path(inputs[0]).read_bytes())


def test_staging_states_are_recorded(http: Site, ftp: Site, tmp_path: Path) -> None:
    url = http.put("in.bin", b"monitored")
    db = f"sqlite:///{tmp_path / 'monitoring.db'}"
    ex = ThreadPoolExecutor(working_dir=str(tmp_path / "w"), storage_access=[
        HTTPSeparateTaskStaging(cache=False), FTPSeparateTaskStaging(cache=False)])
    plait.clear()
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none",
                           monitoring=MonitoringHub(logging_endpoint=db))):
        out = copy(inputs=[File(url)], outputs=[File(f"{ftp.url}/out.bin")])
        out.outputs[0].result(timeout=60)
    plait.clear()
    recorded = rows(db, "SELECT t.task_func_name, s.task_status_name FROM status s JOIN task t "
                        "ON t.task_id = s.task_id AND t.run_id = s.run_id")
    assert ("stage_in_http", "staging_in") in recorded
    assert ("stage_out_ftp", "staging_out") in recorded
    assert ("copy", "exec_done") in recorded
    assert (ftp.root / "out.bin").read_bytes() == b"monitored"
