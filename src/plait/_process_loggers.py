"""wrap_with_logs: log how a long-running function (a thread's or process's body) ended."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])


@overload
def wrap_with_logs(fn: F, target: str = ...) -> F: ...
@overload
def wrap_with_logs(fn: None = None, target: str = ...) -> Callable[[F], F]: ...
def wrap_with_logs(fn: Callable[..., Any] | None = None,
                   target: str = "plait.process_loggers") -> Any:
    """Decorate ``fn`` so that its end is logged to the ``target`` logger.

    A normal return logs "Normal ending for NAME" at DEBUG; an exception logs "Exceptional
    ending for NAME" at ERROR with the traceback, and is re-raised. Works bare
    (``@wrap_with_logs``) or with a logger name (``@wrap_with_logs(target="mine")``).
    """
    def decorate(func: F) -> F:
        logger = logging.getLogger(target)
        name = getattr(func, "__name__", repr(func))

        @functools.wraps(func)
        def logged(*args: Any, **kwargs: Any) -> Any:
            try:
                result = func(*args, **kwargs)
            except BaseException:
                logger.error("Exceptional ending for %s", name, exc_info=True)
                raise
            logger.debug("Normal ending for %s", name)
            return result

        return logged  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate
