"""Parsl's ``parsl.executors.workqueue`` package path (Work Queue is not shipped)."""
