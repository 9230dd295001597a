"""Parsl's ``parsl.logconfigs.json`` path: JSONLogging."""

from plait._logconfigs import JSONLogging as JSONLogging

__all__ = ["JSONLogging"]
