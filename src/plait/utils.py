"""Parsl-compatible import path for the checkpoint helpers: ``from plait.utils import
get_all_checkpoints``."""

from plait.dataflow._checkpoint import get_all_checkpoints as get_all_checkpoints
from plait.dataflow._checkpoint import get_last_checkpoint as get_last_checkpoint

__all__ = ["get_all_checkpoints", "get_last_checkpoint"]
