"""Parsl's ``parsl.jobs.errors`` path: the error of an executor whose blocks keep failing."""

from plait.executors._errors import TooManyJobFailures as TooManyJobFailuresError

__all__ = ["TooManyJobFailuresError"]
