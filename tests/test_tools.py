"""The example workflow and plait-perf run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_example_workflow(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "word_lengths.py"), "3"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "7 tasks (3 bash, 3 python, 1 reduce)" in out.stdout
    assert "3000 words" in out.stdout
    assert (tmp_path / "runinfo" / "000" / "text_2.txt").exists()


def test_plait_perf_reports_rates_latency_and_memory(tmp_path: Path) -> None:
    config = tmp_path / "cfg.py"
    config.write_text("from plait import Config\n"
                      f"config = Config(run_dir={str(tmp_path / 'runinfo')!r})\n")
    out = subprocess.run(
        [sys.executable, "-m", "plait.benchmark", "--config", str(config), "--iterate",
         "50,100", "--latency", "20", "--chain", "20", "--memory", "200", "--json"],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert [b["tasks"] for b in report["batches"]] == [50, 100]
    assert report["latency"]["p50_ms"] > 0 and report["chain_s"] > 0
    assert report["memory"]["in_flight_bytes_per_task"] > 0


def test_plait_perf_rejects_a_config_file_without_config(tmp_path: Path) -> None:
    config = tmp_path / "empty.py"
    config.write_text("x = 1\n")
    out = subprocess.run([sys.executable, "-m", "plait.benchmark", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "defines neither `config` nor `fresh_config()`" in out.stderr


def test_readme_tour_runs(tmp_path: Path) -> None:
    import re

    readme = (ROOT / "README.md").read_text()
    tour = re.search(r"```python\n(.*?)```", readme, re.S)
    assert tour is not None
    (tmp_path / "tour.py").write_text(tour.group(1))
    out = subprocess.run([sys.executable, "tour.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["9", "285", "[0,", "1,", "4,", "9,", "16]"]
    assert (tmp_path / "hello.txt").read_text() == "hello world\n"
