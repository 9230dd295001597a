"""Run directories (runinfo/NNN) and the kernel's log file."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

_NUMBERED = re.compile(r"^\d+$")
LOG_FORMAT = ("%(created)f %(asctime)s %(processName)s-%(process)d %(threadName)s "
              "%(name)s:%(lineno)d %(funcName)s %(levelname)s: %(message)s")


def make_rundir(base: str) -> str:
    """Create ``<base>/NNN`` with the next free number (000, 001, …) and return its path."""
    os.makedirs(base, exist_ok=True)
    while True:
        numbers = [int(n) for n in os.listdir(base) if _NUMBERED.match(n)]
        path = os.path.abspath(os.path.join(base, f"{max(numbers, default=-1) + 1:03d}"))
        try:
            os.mkdir(path)
        except FileExistsError:  # another run took this number between listdir and mkdir
            continue
        return path


def add_file_logger(path: str, level: int, name: str = "plait") -> logging.Handler:
    """Attach a file handler for the ``plait`` logger at ``level``; return it for removal."""
    handler = logging.FileHandler(path)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler


def remove_file_logger(handler: logging.Handler, name: str = "plait") -> None:
    """Detach and close a handler made by add_file_logger."""
    logging.getLogger(name).removeHandler(handler)
    handler.close()


def start_logging(setting: Any, run_dir: str, level: int) -> Callable[[], None]:
    """Set up the run's log as ``Config.initialize_logging`` says; return what undoes it.

    True: ``<run_dir>/plait.log`` at ``level``; False: nothing; a LogConfig (from
    ``plait.logconfigs``): its own ``initialize_logging(log_dir=run_dir, log_name="plait")``.
    """
    if setting is True:
        handler = add_file_logger(f"{run_dir}/plait.log", level)
        return lambda: remove_file_logger(handler)
    if not setting:
        return _nothing
    undo: Callable[[], None] = setting.initialize_logging(log_dir=Path(run_dir),
                                                          log_name="plait")
    return undo


def _nothing() -> None:
    """Undo no logging."""
