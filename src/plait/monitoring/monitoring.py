"""Parsl's import path for MonitoringHub (``parsl.monitoring.monitoring``)."""

from plait.monitoring._hub import MonitoringHub as MonitoringHub

__all__ = ["MonitoringHub"]
