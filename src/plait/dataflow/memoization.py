"""Parsl-compatible import path: ``from plait.dataflow.memoization import BasicMemoizer``."""

from plait.dataflow._checkpoint import CheckpointWarning as CheckpointWarning
from plait.dataflow._hashing import id_for_memo as id_for_memo
from plait.dataflow._memo import BasicMemoizer as BasicMemoizer
from plait.dataflow._memoizer import Memoizer as Memoizer
from plait.dataflow._memokey import make_hash as make_hash

__all__ = ["BasicMemoizer", "CheckpointWarning", "Memoizer", "id_for_memo", "make_hash"]
