"""set_stream_logger / set_file_logger: send plait's log to a stream or a file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import IO, Any

DEFAULT_FORMAT = "%(asctime)s %(name)s:%(lineno)d [%(levelname)s] %(message)s"


def _attach(handler: logging.Handler, name: str, level: int,
            format_string: str | None) -> Callable[[], None]:
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or DEFAULT_FORMAT))
    loggers = [logging.getLogger(name), logging.getLogger("concurrent.futures")]
    for logger in loggers:
        logger.setLevel(level)
        logger.addHandler(handler)

    def unregister() -> None:
        for logger in loggers:
            logger.removeHandler(handler)
        handler.close()

    return unregister


def set_stream_logger(name: str = "plait", level: int = logging.DEBUG,
                      format_string: str | None = None,
                      stream: IO[Any] | None = None) -> Callable[[], None]:
    """Log ``name`` at ``level`` to ``stream`` (stderr by default); return an unregister."""
    return _attach(logging.StreamHandler(stream), name, level, format_string)


def set_file_logger(filename: str, name: str = "plait", level: int = logging.DEBUG,
                    format_string: str | None = None) -> Callable[[], None]:
    """Log ``name`` at ``level`` to ``filename``; return a function that unregisters it."""
    return _attach(logging.FileHandler(filename), name, level, format_string)
