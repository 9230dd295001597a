"""Parsl's ``parsl.executors.status_handling`` path: the base of executors that hold blocks."""

from plait.executors._blocks import BlockProviderExecutor as BlockProviderExecutor

__all__ = ["BlockProviderExecutor"]
