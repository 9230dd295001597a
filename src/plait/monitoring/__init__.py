"""Monitoring: record a run's tasks, tries, states and resource use into a database.

``Config(monitoring=MonitoringHub(...))`` turns it on; ``plait status``, ``plait summary``,
``plait report`` and ``plait dashboard`` read what it wrote. The database keeps Parsl's
tables and columns (see :mod:`plait.monitoring._schema`). Parsl's import paths
``plait.monitoring.monitoring``, ``.errors`` and ``.radios.*`` are kept.
"""

from __future__ import annotations

from plait.monitoring._errors import MonitoringDatabaseError as MonitoringDatabaseError
from plait.monitoring._errors import MonitoringError as MonitoringError
from plait.monitoring._errors import MonitoringRouterStartError as MonitoringRouterStartError
from plait.monitoring._errors import RadioRequiredError as RadioRequiredError
from plait.monitoring._hub import MonitoringHub as MonitoringHub

__all__ = ["MonitoringDatabaseError", "MonitoringError", "MonitoringHub",
           "MonitoringRouterStartError", "RadioRequiredError"]
