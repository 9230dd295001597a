"""Errors raised by transports.

::

    PlaitError
    └── TransportError          a command could not be run where the scheduler is
        ├── CommandTimeout      it did not finish in time and was killed
        └── TransportFailed     the connection to the remote host failed (ssh's own error)
"""

from __future__ import annotations

from plait._errors import PlaitError


class TransportError(PlaitError):
    """A command could not be run through a transport."""


class CommandTimeout(TransportError):
    """A command run through a transport did not finish in time, and was killed."""

    def __init__(self, command: str, timeout: float, where: str = "localhost") -> None:
        super().__init__(command, timeout, where)
        self.command, self.timeout, self.where = command, timeout, where

    def __str__(self) -> str:
        return (f"command {self.command!r} on {self.where} did not finish within "
                f"{self.timeout:g} s and was killed. If the scheduler is just slow, raise the "
                "provider's cmd_timeout; a command that backgrounds a process must redirect "
                "its output, or the transport waits for it.")


class TransportFailed(TransportError):
    """The connection to a remote host could not be opened or was lost."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(where, message)
        self.where, self.message = where, message

    def __str__(self) -> str:
        return (f"ssh to {self.where} failed: {self.message}. Check that `ssh` to it works "
                "without a prompt (key in the agent or key_filename; the host's key in "
                "known_hosts, or host_key_policy='accept-new'); for two-factor login open "
                "the master connection by hand with the transport's control_path.")
