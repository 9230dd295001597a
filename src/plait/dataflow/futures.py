"""Parsl-compatible import path: ``from plait.dataflow.futures import AppFuture``."""

from plait.dataflow._futures import AppFuture as AppFuture

__all__ = ["AppFuture"]
