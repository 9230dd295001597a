"""Parsl's import path for monitoring errors (``parsl.monitoring.errors``)."""

from plait.monitoring._errors import MonitoringRouterStartError as MonitoringRouterStartError
from plait.monitoring._errors import RadioRequiredError as RadioRequiredError

__all__ = ["MonitoringRouterStartError", "RadioRequiredError"]
