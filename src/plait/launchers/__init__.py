"""Launchers wrap the worker command so that one block starts the right number of copies."""

from plait.launchers._errors import BadLauncher as BadLauncher

__all__ = ["BadLauncher"]
