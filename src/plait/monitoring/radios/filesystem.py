"""Parsl's import path for FilesystemRadio (``parsl.monitoring.radios.filesystem``)."""

from plait.monitoring.radios._radios import FilesystemRadio as FilesystemRadio

__all__ = ["FilesystemRadio"]
