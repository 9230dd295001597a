"""Parsl's ``parsl.utils`` path: checkpoint helpers, Timer and RepresentationMixin."""

from plait._repr_mixin import RepresentationMixin as RepresentationMixin
from plait._timer import Timer as Timer
from plait.dataflow._checkpoint import get_all_checkpoints as get_all_checkpoints
from plait.dataflow._checkpoint import get_last_checkpoint as get_last_checkpoint

__all__ = ["RepresentationMixin", "Timer", "get_all_checkpoints", "get_last_checkpoint"]
