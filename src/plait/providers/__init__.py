"""Providers obtain blocks (batch jobs) of nodes on which an executor runs its workers."""

from plait.providers._errors import ExecutionProviderException as ExecutionProviderException
from plait.providers._errors import ScaleOutFailed as ScaleOutFailed
from plait.providers._errors import SchedulerMissingArgs as SchedulerMissingArgs
from plait.providers._errors import ScriptPathError as ScriptPathError
from plait.providers._errors import SubmitException as SubmitException
from plait.providers._jobs import TERMINAL_STATES as TERMINAL_STATES
from plait.providers._jobs import JobState as JobState
from plait.providers._jobs import JobStatus as JobStatus

__all__ = [
    "TERMINAL_STATES",
    "ExecutionProviderException",
    "JobState",
    "JobStatus",
    "ScaleOutFailed",
    "SchedulerMissingArgs",
    "ScriptPathError",
    "SubmitException",
]
