"""Parsl's ``parsl.jobs.error_handlers`` path: what ``block_error_handler=`` may name."""

from plait.executors._blocks import noop_error_handler as noop_error_handler
from plait.executors._blocks import simple_error_handler as simple_error_handler
from plait.executors._blocks import windowed_error_handler as windowed_error_handler

__all__ = ["noop_error_handler", "simple_error_handler", "windowed_error_handler"]
