"""Parsl's ``parsl.logconfigs.base`` path: LogConfig."""

from plait._logconfigs import LogConfig as LogConfig

__all__ = ["LogConfig"]
