"""Errors of the monitoring layer (re-exported from plait.errors and plait.monitoring.errors).

::

    PlaitError
    └── MonitoringError
        ├── MonitoringDatabaseError     a monitoring database cannot be read or written
        ├── RadioRequiredError          resource monitoring asked of an executor with no radio
        └── MonitoringRouterStartError  the monitoring hub process did not start
"""

from __future__ import annotations

from plait._errors import PlaitError


class MonitoringError(PlaitError):
    """Base class of monitoring errors. Monitoring never fails a run: these come from the
    tools that read a database, or from a hub asked to start twice."""


class MonitoringDatabaseError(MonitoringError):
    """A monitoring database could not be opened, read or written."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(target, reason)
        self.target, self.reason = target, reason

    def __str__(self) -> str:
        return (f"monitoring database {self.target}: {self.reason}. Pass a run directory, "
                "a monitoring.db file or a SQLAlchemy URL (sqlite:///..., postgresql://...)")


class RadioRequiredError(MonitoringError):
    """An executor was asked for resource monitoring but has no radio to send samples."""

    def __init__(self, executor: str) -> None:
        super().__init__(executor)
        self.executor = executor

    def __str__(self) -> str:
        return (f"executor {self.executor!r} has resource monitoring on but no "
                "remote_monitoring_radio; give it one (e.g. HTEXRadio()) or set "
                "MonitoringHub(resource_monitoring_enabled=False)")


class MonitoringRouterStartError(MonitoringError):
    """The monitoring hub's database process did not start."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"the monitoring hub could not start: {self.reason}"
