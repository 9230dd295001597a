"""Parsl-compatible import path for kernel errors; see :mod:`plait.errors`."""

from plait._errors import BadCheckpoint as BadCheckpoint
from plait._errors import DataFlowException as DataFlowException
from plait._errors import DependencyError as DependencyError
from plait._errors import JoinError as JoinError
from plait._errors import PropagatedException as PropagatedException

__all__ = ["BadCheckpoint", "DataFlowException", "DependencyError", "JoinError",
           "PropagatedException"]
