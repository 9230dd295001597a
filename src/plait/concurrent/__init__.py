"""Parsl's ``parsl.concurrent`` path: ParslPoolExecutor, a concurrent.futures Executor."""

from plait.concurrent._pool import ParslPoolExecutor as ParslPoolExecutor

__all__ = ["ParslPoolExecutor"]
