"""Parsl's ``parsl.jobs.errors`` path. Parsl's TooManyJobFailuresError is plait's BlockFailed:
the error an executor's tasks fail with once its blocks keep failing."""

from plait.executors._errors import BlockFailed as TooManyJobFailuresError

__all__ = ["TooManyJobFailuresError"]
