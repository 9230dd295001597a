"""Parsl's ``parsl.executors.base`` path: the executor interface, under Parsl's name too."""

from plait.executors._base import Executor as Executor
from plait.executors._base import ParslExecutor as ParslExecutor

__all__ = ["Executor", "ParslExecutor"]
