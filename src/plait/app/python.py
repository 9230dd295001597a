"""Parsl's ``parsl.app.python`` path: the PythonApp class and the ``timeout`` wrapper."""

from plait.app._decorators import PythonApp as PythonApp
from plait.app._walltime import timeout as timeout

__all__ = ["PythonApp", "timeout"]
