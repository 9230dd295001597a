"""Retrying a transfer: what a try's failure means (Transient or Permanent), and the loop
with exponential backoff that turns the last failure into a StagingError."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from plait.data._errors import StagingError, redact

log = logging.getLogger(__name__)
MAX_DELAY = 30.0
T = TypeVar("T")


class Transient(Exception):
    """A transfer try failed in a way another try may not (a refused connection, a 503)."""

    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause, retry_after)
        self.cause, self.retry_after = cause, retry_after


class Permanent(Exception):
    """A transfer failed in a way no retry mends (404, permission denied, a bad checksum)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def with_retries(url: str, direction: str, local_path: str | None, attempts: int,
                 backoff: float, attempt: Callable[[int], T]) -> T:
    """Call ``attempt(n)`` for n = 1.. until it returns; wait ``backoff * 2**(n-1)`` (with
    jitter, or the server's Retry-After) after a Transient failure; raise StagingError
    naming the URL, the last cause and the number of tries."""
    cause = "no try was made"
    for n in range(1, attempts + 1):
        try:
            return attempt(n)
        except Transient as exc:
            cause = exc.cause
            if n < attempts:
                delay = exc.retry_after if exc.retry_after is not None else \
                    backoff * 2 ** (n - 1) * (0.5 + random.random())
                log.debug("staging %s %s: try %d failed (%s); next in %.2fs", direction,
                          redact(url), n, cause, delay)
                time.sleep(min(delay, MAX_DELAY))  # backoff before the next try
        except Permanent as exc:
            raise StagingError(url, direction, exc.cause, n, local_path) from None
        except OSError as exc:  # the local side: disk full, permission, missing directory
            raise StagingError(url, direction, local_failure(exc), n, local_path) from None
    raise StagingError(url, direction, cause, attempts, local_path)


def local_failure(exc: OSError) -> str:
    """How an OSError of the local side reads in a StagingError: the cause and the path."""
    return f"{exc.strerror or exc} ({exc.filename or 'a local file'})"
