"""Parsl's ``parsl.executors.high_throughput.manager_selector`` path."""

from plait.executors.pilot._selectors import BlockIdManagerSelector as BlockIdManagerSelector
from plait.executors.pilot._selectors import ManagerSelector as ManagerSelector
from plait.executors.pilot._selectors import RandomManagerSelector as RandomManagerSelector

__all__ = ["BlockIdManagerSelector", "ManagerSelector", "RandomManagerSelector"]
