"""Errors raised by transports."""

from __future__ import annotations

from plait._errors import PlaitError


class CommandTimeout(PlaitError):
    """A command run through a transport did not finish in time, and was killed."""

    def __init__(self, command: str, timeout: float, where: str = "localhost") -> None:
        super().__init__(command, timeout, where)
        self.command, self.timeout, self.where = command, timeout, where

    def __str__(self) -> str:
        return (f"command {self.command!r} on {self.where} did not finish within "
                f"{self.timeout:g} s and was killed. If the scheduler is just slow, raise the "
                "provider's cmd_timeout; a command that backgrounds a process must redirect "
                "its output, or the transport waits for it.")
