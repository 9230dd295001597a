"""Parsl's ``parsl.jobs.states`` path: the states of a block's batch job."""

from plait.providers._jobs import TERMINAL_STATES as TERMINAL_STATES
from plait.providers._jobs import JobState as JobState
from plait.providers._jobs import JobStatus as JobStatus

__all__ = ["TERMINAL_STATES", "JobState", "JobStatus"]
