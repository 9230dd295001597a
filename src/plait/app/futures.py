"""Parsl-compatible import path: ``from plait.app.futures import DataFuture``."""

from plait.data._futures import DataFuture as DataFuture

__all__ = ["DataFuture"]
