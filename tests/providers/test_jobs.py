"""JobState values and JobStatus behaviour (Parsl-compatible)."""

from __future__ import annotations

import pickle
from pathlib import Path

from plait.providers import TERMINAL_STATES, JobState, JobStatus


def test_values_match_parsl() -> None:
    assert [(s.name, int(s)) for s in JobState] == [
        ("UNKNOWN", 0), ("PENDING", 1), ("RUNNING", 2), ("CANCELLED", 3), ("COMPLETED", 4),
        ("FAILED", 5), ("TIMEOUT", 6), ("HELD", 7), ("MISSING", 8), ("SCALED_IN", 9)]


def test_str_and_repr_do_not_raise() -> None:
    for state in JobState:
        assert str(state) == f"JobState.{state.name}"
        assert state.name in repr(state)


def test_terminal_states() -> None:
    assert {s.name for s in TERMINAL_STATES} == {
        "CANCELLED", "COMPLETED", "FAILED", "TIMEOUT", "MISSING", "SCALED_IN"}
    for state in JobState:
        assert JobStatus(state).terminal is (state in TERMINAL_STATES)


def test_status_fields_and_name() -> None:
    st = JobStatus(JobState.FAILED, message="boom", exit_code=3)
    assert st.status_name == "FAILED"
    assert st.message == "boom" and st.exit_code == 3
    assert st.stdout is None and st.stderr_summary is None
    assert "FAILED" in repr(st) and "boom" in repr(st)


def test_reads_output_files(tmp_path: Path) -> None:
    out, err = tmp_path / "job.stdout", tmp_path / "job.stderr"
    out.write_text("hello\n")
    err.write_text("x" * 3000 + "MIDDLE" + "y" * 5000 + "END")
    st = JobStatus(JobState.FAILED, stdout_path=str(out), stderr_path=str(err))
    assert st.stdout == "hello\n" and st.stdout_summary == "hello\n"
    summary = st.stderr_summary
    assert summary is not None
    assert len(summary) < 2100
    assert summary.startswith("x" * 100) and summary.endswith("END")
    assert "MIDDLE" not in summary


def test_missing_file_reads_as_none(tmp_path: Path) -> None:
    st = JobStatus(JobState.COMPLETED, stdout_path=str(tmp_path / "nope"))
    assert st.stdout is None


def test_pickles() -> None:
    st = JobStatus(JobState.TIMEOUT, message="walltime", exit_code=-15, stdout_path="/a")
    back = pickle.loads(pickle.dumps(st))
    assert back == st and back.stdout_path == "/a"
