"""Parsl's ``parsl.executors.high_throughput.executor`` path: HighThroughputExecutor, and
DEFAULT_LAUNCH_CMD, the template a block runs when ``launch_cmd`` is None (plait's manager
and format fields), for wrapping it: ``launch_cmd="env FOO=1 " + DEFAULT_LAUNCH_CMD``."""

from plait.executors.pilot._executor import HighThroughputExecutor as HighThroughputExecutor
from plait.executors.pilot._settings import default_launch_cmd

DEFAULT_LAUNCH_CMD = default_launch_cmd()

__all__ = ["DEFAULT_LAUNCH_CMD", "HighThroughputExecutor"]
