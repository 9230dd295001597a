"""Job states and the status record a provider reports for each block (Parsl's values)."""

from __future__ import annotations

from enum import IntEnum

# Summaries keep the head and tail of long outputs, so an error message stays readable.
_SUMMARY_LIMIT = 2048


class JobState(IntEnum):
    """State of a batch job (a block), with Parsl's integer values."""

    UNKNOWN = 0
    PENDING = 1
    RUNNING = 2
    CANCELLED = 3
    COMPLETED = 4
    FAILED = 5
    TIMEOUT = 6
    HELD = 7
    MISSING = 8
    SCALED_IN = 9

    def __str__(self) -> str:
        return f"{self.__class__.__name__}.{self.name}"


TERMINAL_STATES: frozenset[JobState] = frozenset(
    {
        JobState.CANCELLED,
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.TIMEOUT,
        JobState.MISSING,
        JobState.SCALED_IN,
    }
)


def _read(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _summarize(text: str | None) -> str | None:
    if text is None or len(text) <= _SUMMARY_LIMIT:
        return text
    half = _SUMMARY_LIMIT // 2
    return f"{text[:half]}\n...\n{text[-half:]}"


class JobStatus:
    """What a provider knows about one job: its state, and why it ended if it did."""

    __slots__ = ("exit_code", "message", "state", "stderr_path", "stdout_path")

    def __init__(
        self,
        state: JobState,
        message: str | None = None,
        exit_code: int | None = None,
        stdout_path: str | None = None,
        stderr_path: str | None = None,
    ) -> None:
        self.state = state
        self.message = message
        self.exit_code = exit_code
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path

    @property
    def terminal(self) -> bool:
        """True once the job has ended and will not change state again."""
        return self.state in TERMINAL_STATES

    @property
    def status_name(self) -> str:
        """The state's name, e.g. ``"RUNNING"``."""
        return self.state.name

    @property
    def stdout(self) -> str | None:
        """The job's standard output, read from ``stdout_path`` (None if unknown)."""
        return _read(self.stdout_path)

    @property
    def stderr(self) -> str | None:
        """The job's standard error, read from ``stderr_path`` (None if unknown)."""
        return _read(self.stderr_path)

    @property
    def stdout_summary(self) -> str | None:
        """The job's stdout, cut to head and tail when longer than 2048 characters."""
        return _summarize(self.stdout)

    @property
    def stderr_summary(self) -> str | None:
        """The job's stderr, cut to head and tail when longer than 2048 characters."""
        return _summarize(self.stderr)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobStatus):
            return NotImplemented
        return (self.state, self.message, self.exit_code) == (
            other.state, other.message, other.exit_code)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = [f"state={self.state}"]
        if self.message is not None:
            parts.append(f"message={self.message!r}")
        if self.exit_code is not None:
            parts.append(f"exit_code={self.exit_code}")
        return f"<JobStatus {', '.join(parts)}>"
