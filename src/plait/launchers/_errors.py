"""Errors raised about launchers."""

from __future__ import annotations

from plait._errors import ConfigurationError


class BadLauncher(ConfigurationError):
    """A provider was given something that is not a launcher (a ConfigurationError of the
    ``launcher`` field)."""

    def __init__(self, launcher: object, reason: str = "") -> None:
        super().__init__("launcher", launcher, "an instance of a plait.launchers class",
                         reason or None)
        self.args = (launcher, reason)  # what unpickling replays
        self.launcher, self.reason = launcher, reason

    def __str__(self) -> str:
        text = f"bad launcher {self.launcher!r}"
        if self.reason:
            text += f": {self.reason}"
        return (text + ". Pass an instance of a plait.launchers class, e.g. "
                "launcher=SingleNodeLauncher() (an instance, not the class).")
