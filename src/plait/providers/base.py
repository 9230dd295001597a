"""Parsl's ``parsl.providers.base`` path: the provider interface and job states."""

from plait.providers._base import ExecutionProvider as ExecutionProvider
from plait.providers._jobs import JobState as JobState
from plait.providers._jobs import JobStatus as JobStatus

__all__ = ["ExecutionProvider", "JobState", "JobStatus"]
