"""Parsl's ``parsl.process_loggers`` path: wrap_with_logs."""

from plait._process_loggers import wrap_with_logs as wrap_with_logs

__all__ = ["wrap_with_logs"]
