"""Parsl's ``parsl.providers.errors`` path: provider error classes."""

from plait.providers._errors import ExecutionProviderException as ExecutionProviderException
from plait.providers._errors import ScaleOutFailed as ScaleOutFailed
from plait.providers._errors import SchedulerMissingArgs as SchedulerMissingArgs
from plait.providers._errors import ScriptPathError as ScriptPathError
from plait.providers._errors import SubmitException as SubmitException

__all__ = [
    "ExecutionProviderException",
    "ScaleOutFailed",
    "SchedulerMissingArgs",
    "ScriptPathError",
    "SubmitException",
]
