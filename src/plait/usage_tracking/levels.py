"""Parsl's ``parsl.usage_tracking.levels`` path: DISABLED and LEVEL_1..LEVEL_3."""

from plait.usage_tracking._levels import DISABLED as DISABLED
from plait.usage_tracking._levels import LEVEL_1 as LEVEL_1
from plait.usage_tracking._levels import LEVEL_2 as LEVEL_2
from plait.usage_tracking._levels import LEVEL_3 as LEVEL_3

__all__ = ["DISABLED", "LEVEL_1", "LEVEL_2", "LEVEL_3"]
