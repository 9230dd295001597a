"""Parsl-compatible import path: ``from plait.app.app import python_app``."""

from plait.app._decorators import AppBase as AppBase
from plait.app._decorators import BashApp as BashApp
from plait.app._decorators import PythonApp as PythonApp
from plait.app._decorators import bash_app as bash_app
from plait.app._decorators import join_app as join_app
from plait.app._decorators import python_app as python_app

__all__ = ["AppBase", "BashApp", "PythonApp", "bash_app", "join_app", "python_app"]
