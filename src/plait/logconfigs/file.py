"""Parsl's ``parsl.logconfigs.file`` path: FileLogging."""

from plait._logconfigs import FileLogging as FileLogging

__all__ = ["FileLogging"]
