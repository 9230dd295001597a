"""Log configurations for ``Config(initialize_logging=...)`` (Parsl's ``parsl.logconfigs``)."""

from plait._logconfigs import FileLogging as FileLogging
from plait._logconfigs import JSONLogging as JSONLogging
from plait._logconfigs import LogConfig as LogConfig
from plait._logconfigs import NoopLogging as NoopLogging

__all__ = ["FileLogging", "JSONLogging", "LogConfig", "NoopLogging"]
