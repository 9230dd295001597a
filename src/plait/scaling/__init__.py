"""Scaling: decide how many blocks each executor needs, and apply it from one thread.

Internal layer (the kernel uses it); not part of the public API.
"""

from plait.scaling._poller import JobStatusPoller as JobStatusPoller
from plait.scaling._strategy import BlockLoad as BlockLoad
from plait.scaling._strategy import Decision as Decision
from plait.scaling._strategy import decide as decide

__all__ = ["BlockLoad", "Decision", "JobStatusPoller", "decide"]
