"""Parsl-compatible import path: ``from plait.dataflow.states import States``."""

from plait.dataflow._states import FINAL_FAILURE_STATES as FINAL_FAILURE_STATES
from plait.dataflow._states import FINAL_STATES as FINAL_STATES
from plait.dataflow._states import States as States

__all__ = ["FINAL_FAILURE_STATES", "FINAL_STATES", "States"]
