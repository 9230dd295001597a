"""Transports run a provider's commands, locally or (later) on a remote login node.

Internal layer (providers use it); not part of the public API.
"""

from plait.transport._base import Transport as Transport
from plait.transport._errors import CommandTimeout as CommandTimeout
from plait.transport._local import LocalTransport as LocalTransport

__all__ = ["CommandTimeout", "LocalTransport", "Transport"]
