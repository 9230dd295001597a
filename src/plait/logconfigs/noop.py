"""Parsl's ``parsl.logconfigs.noop`` path: NoopLogging."""

from plait._logconfigs import NoopLogging as NoopLogging

__all__ = ["NoopLogging"]
