"""Parsl's ``parsl.launchers.errors`` path: BadLauncher."""

from plait.launchers._errors import BadLauncher as BadLauncher

__all__ = ["BadLauncher"]
