"""The Transport interface: run a shell command where the scheduler is, with a deadline."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Transport(ABC):
    """Runs commands (and moves files) on the host where a provider's scheduler lives.

    Providers run their submit, status and cancel commands through a transport, so the same
    provider works from the login node itself (``LocalTransport``) or, later, over SSH.
    """

    #: the host commands run on, for messages
    hostname: str = "localhost"
    #: True when files must be copied (push_file) for the commands to see them
    is_remote: bool = False

    @abstractmethod
    def run(
        self, cmd: str, timeout: float | None = None, env: dict[str, str] | None = None,
    ) -> tuple[int, str, str]:
        """Run ``cmd`` in a shell and return ``(exit_code, stdout, stderr)``.

        Raises:
            CommandTimeout: the command ran past ``timeout`` seconds; it was killed.
        """

    @abstractmethod
    def push_file(self, source: str, dest_dir: str) -> str:
        """Make the local file ``source`` available in ``dest_dir``; return its new path."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Plain data from which :func:`transport_from_description` rebuilds this transport."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections; a no-op for local transports."""
