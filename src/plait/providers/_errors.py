"""Errors raised by providers, named as in Parsl.

::

    PlaitError
    └── ExecutionProviderException      a provider could not do what was asked
        ├── ScaleOutFailed              a block could not be obtained
        ├── SchedulerMissingArgs        the submit script template lacks a value
        ├── ScriptPathError             the submit script could not be written
        └── SubmitException             the scheduler refused or failed a submission
"""

from __future__ import annotations

from collections.abc import Sequence

from plait._errors import PlaitError


class ExecutionProviderException(PlaitError):
    """Base class of errors raised by execution providers."""


class ScaleOutFailed(ExecutionProviderException):
    """A provider could not obtain a new block."""

    def __init__(self, provider: object, reason: str) -> None:
        super().__init__(provider, reason)
        self.provider, self.reason = provider, reason

    def __str__(self) -> str:
        label = getattr(self.provider, "label", self.provider)
        return (f"provider {label} could not scale out: {self.reason}. Check the scheduler's "
                "limits and the provider's settings (queue, account, walltime).")


class SchedulerMissingArgs(ExecutionProviderException):
    """The submit script template needs values the provider was not given."""

    def __init__(self, missing_keywords: Sequence[str], sitename: str) -> None:
        super().__init__(missing_keywords, sitename)
        self.missing_keywords, self.sitename = list(missing_keywords), sitename

    def __str__(self) -> str:
        keys = ", ".join(self.missing_keywords)
        return (f"provider {self.sitename}: the submit script template needs a value for "
                f"{keys}; set it on the provider (or fix the ${{...}} placeholder in the "
                "template).")


class ScriptPathError(ExecutionProviderException):
    """The submit script could not be written."""

    def __init__(self, script_path: str, reason: object) -> None:
        super().__init__(script_path, reason)
        self.script_path, self.reason = script_path, reason

    def __str__(self) -> str:
        return (f"could not write submit script {self.script_path}: {self.reason}. Check that "
                "the provider's script_dir exists and is writable.")


class SubmitException(ExecutionProviderException):
    """A job could not be submitted (or started) by the provider."""

    def __init__(
        self, job_name: str, message: str, stdout: str | None = None,
        stderr: str | None = None, retcode: int | None = None,
    ) -> None:
        super().__init__(job_name, message, stdout, stderr, retcode)
        self.job_name, self.message = job_name, message
        self.stdout, self.stderr, self.retcode = stdout, stderr, retcode

    @property
    def task_name(self) -> str:
        """Parsl's name for the job name."""
        return self.job_name

    def __str__(self) -> str:
        text = f"cannot submit job {self.job_name}: {self.message}"
        if self.retcode is not None:
            text += f" (exit code {self.retcode})"
        for name, out in (("stdout", self.stdout), ("stderr", self.stderr)):
            if out and out.strip():
                text += f"; {name}: {out.strip()[-1000:]}"
        return text + ". Check the provider's settings and the scheduler's message above."
