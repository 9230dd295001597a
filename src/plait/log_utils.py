"""Parsl's ``parsl.log_utils`` path: set_stream_logger and set_file_logger."""

from plait._log_utils import set_file_logger as set_file_logger
from plait._log_utils import set_stream_logger as set_stream_logger

__all__ = ["set_file_logger", "set_stream_logger"]
