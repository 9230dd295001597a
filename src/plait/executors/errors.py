"""Parsl's ``parsl.executors.errors`` path: executor error classes."""

from plait.executors._errors import BadMessage as BadMessage
from plait.executors._errors import BadStateException as BadStateException
from plait.executors._errors import ExecutorError as ExecutorError
from plait.executors._errors import InvalidResourceSpecification as InvalidResourceSpecification
from plait.executors._errors import ScalingFailed as ScalingFailed
from plait.executors._errors import UnsupportedFeatureError as UnsupportedFeatureError

__all__ = ["BadMessage", "BadStateException", "ExecutorError", "InvalidResourceSpecification",
           "ScalingFailed", "UnsupportedFeatureError"]
