"""Log configurations: how a run sets up logging (``Config(initialize_logging=...)``).

A LogConfig is plain, picklable data; ``initialize_logging(log_dir=, log_name=)`` applies
it in the current process and returns the function that undoes it. The kernel calls it at
load with the run directory and ``"plait"``, and the undo at cleanup.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plait._log_utils import attach_handler
from plait._validate import check_int, check_str

#: Parsl's default log line: float epoch first, so tools can parse times exactly
FILE_FORMAT = ("%(created)f %(asctime)s %(processName)s-%(process)d %(threadName)s-%(thread)d "
               "%(name)s:%(lineno)d %(funcName)s %(levelname)s: %(message)s")

# attributes every LogRecord has; anything else on a record came from ``extra=``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class LogConfig(ABC):
    """A logging policy that plait applies in each process it configures."""

    @abstractmethod
    def initialize_logging(self, *, log_dir: Path, log_name: str) -> Callable[[], None]:
        """Set up logging in this process; return the function that removes it again."""


@dataclass(frozen=True, kw_only=True)
class FileLogging(LogConfig):
    """plait's log, at ``level`` and above, into ``<log_dir>/<log_name>.log``."""

    format_string: str = FILE_FORMAT
    level: int = logging.DEBUG

    def __post_init__(self) -> None:
        check_str("format_string", self.format_string, owner="FileLogging")
        check_int("level", self.level, low=0, high=logging.CRITICAL, owner="FileLogging")

    def initialize_logging(self, *, log_dir: Path, log_name: str) -> Callable[[], None]:
        handler = logging.FileHandler(Path(log_dir) / f"{log_name}.log")
        return attach_handler(handler, self.level, self.format_string)


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"created": record.created, "name": record.name,
                 "levelname": record.levelname, "process": record.process,
                 "threadName": record.threadName, "pathname": record.pathname,
                 "lineno": record.lineno, "funcName": record.funcName,
                 "message": record.getMessage()}
        if record.exc_info:
            entry["exc_text"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD:  # structured fields given with extra={...}
                entry[key] = value
        return json.dumps(entry, default=repr)


@dataclass(frozen=True, kw_only=True)
class JSONLogging(LogConfig):
    """Every log record at ``level`` and above, from any logger, as one JSON object per
    line in ``<log_dir>/<log_name>.jsonlog``; ``extra=`` fields become keys."""

    level: int = logging.DEBUG

    def __post_init__(self) -> None:
        check_int("level", self.level, low=0, high=logging.CRITICAL, owner="JSONLogging")

    def initialize_logging(self, *, log_dir: Path, log_name: str) -> Callable[[], None]:
        handler = logging.FileHandler(Path(log_dir) / f"{log_name}.jsonlog")
        handler.setLevel(self.level)
        handler.setFormatter(_JSONFormatter())
        root = logging.getLogger()
        previous = root.level
        root.addHandler(handler)
        if previous == logging.NOTSET or previous > self.level:
            root.setLevel(self.level)

        def uninitialize() -> None:
            root.removeHandler(handler)
            root.setLevel(previous)
            handler.close()

        return uninitialize


@dataclass(frozen=True)
class NoopLogging(LogConfig):
    """Configure no logging at all (for benchmarks, or when the host application does)."""

    def initialize_logging(self, *, log_dir: Path, log_name: str) -> Callable[[], None]:
        return _nothing


def _nothing() -> None:
    """Undo nothing."""
