"""set_stream_logger / set_file_logger: send plait's log to a stream or a file."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import IO, Any

DEFAULT_FORMAT = "%(asctime)s %(name)s:%(lineno)d [%(levelname)s] %(message)s"


def attach_handler(handler: logging.Handler, level: int, format_string: str | None,
                   names: Sequence[str] = ("plait",)) -> Callable[[], None]:
    """Send the ``names`` loggers' records at ``level`` and above to ``handler``; return a
    function that detaches and closes it and restores the loggers' levels."""
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or DEFAULT_FORMAT))
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
        logger.addHandler(handler)

    def unregister() -> None:
        for logger, previous in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(previous)
        handler.close()

    return unregister


def set_stream_logger(name: str = "plait", level: int = logging.DEBUG,
                      format_string: str | None = None,
                      stream: IO[Any] | None = None) -> Callable[[], None]:
    """Log ``name`` at ``level`` to ``stream`` (stderr by default); return an unregister."""
    return attach_handler(logging.StreamHandler(stream), level, format_string,
                          (name, "concurrent.futures"))


def set_file_logger(filename: str, name: str = "plait", level: int = logging.DEBUG,
                    format_string: str | None = None) -> Callable[[], None]:
    """Log ``name`` at ``level`` to ``filename``; return a function that unregisters it."""
    return attach_handler(logging.FileHandler(filename), level, format_string,
                          (name, "concurrent.futures"))
