"""Opt-in anonymous usage tracking (Parsl's ``usage_tracking`` levels); off by default.

``Config(usage_tracking=LEVEL_1)`` (or 2, 3) sends one small UDP message when a kernel
loads and, at level 3, one when it is cleaned up. ``plait usage --show`` prints exactly what
would be sent. Sending happens on a daemon thread with a short timeout: without network it
never blocks or slows a run.
"""

from plait.usage_tracking._tracker import ENDPOINT_ENV as ENDPOINT_ENV
from plait.usage_tracking._tracker import UsageTracker as UsageTracker
from plait.usage_tracking._tracker import messages as messages
from plait.usage_tracking.levels import DISABLED as DISABLED
from plait.usage_tracking.levels import LEVEL_1 as LEVEL_1
from plait.usage_tracking.levels import LEVEL_2 as LEVEL_2
from plait.usage_tracking.levels import LEVEL_3 as LEVEL_3

__all__ = ["DISABLED", "ENDPOINT_ENV", "LEVEL_1", "LEVEL_2", "LEVEL_3", "UsageTracker",
           "messages"]
