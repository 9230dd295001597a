"""Parsl's ``parsl.launchers.base`` path: the Launcher interface."""

from plait.launchers._base import Launcher as Launcher

__all__ = ["Launcher"]
