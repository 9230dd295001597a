"""Parsl's ``parsl.executors.threads`` path: ThreadPoolExecutor."""

from plait.executors._threads import ThreadPoolExecutor as ThreadPoolExecutor

__all__ = ["ThreadPoolExecutor"]
