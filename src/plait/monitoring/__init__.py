"""Monitoring: record a run's tasks, tries, states and resource use into a database.

``Config(monitoring=MonitoringHub(...))`` turns it on; ``plait status``, ``plait summary``,
``plait report`` and ``plait dashboard`` read what it wrote. The database keeps Parsl's
tables and columns (see :mod:`plait.monitoring._schema`). Parsl's import paths
``plait.monitoring.monitoring``, ``.errors`` and ``.radios.*`` are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait.monitoring._errors import MonitoringDatabaseError as MonitoringDatabaseError
from plait.monitoring._errors import MonitoringError as MonitoringError
from plait.monitoring._errors import MonitoringRouterStartError as MonitoringRouterStartError
from plait.monitoring._errors import RadioRequiredError as RadioRequiredError
from plait.monitoring._hub import MonitoringHub as MonitoringHub

if TYPE_CHECKING:
    from plait.monitoring._notebook import RunWidget as RunWidget
    from plait.monitoring._notebook import progress as progress

__all__ = ["MonitoringDatabaseError", "MonitoringError", "MonitoringHub",
           "MonitoringRouterStartError", "RadioRequiredError", "RunWidget", "progress"]


def __getattr__(name: str) -> object:
    if name in ("RunWidget", "progress"):  # they need ipywidgets or rich: on first use
        from plait.monitoring import _notebook

        return getattr(_notebook, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
