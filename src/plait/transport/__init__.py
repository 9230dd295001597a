"""Transports run a provider's commands, on this host or on a login node over SSH.

``SSHTransport`` is public through ``plait.providers``; the rest is internal.
"""

from plait.transport._base import Transport as Transport
from plait.transport._describe import transport_from_description as transport_from_description
from plait.transport._errors import CommandTimeout as CommandTimeout
from plait.transport._errors import TransportError as TransportError
from plait.transport._errors import TransportFailed as TransportFailed
from plait.transport._local import LocalTransport as LocalTransport
from plait.transport._ssh import SSHTransport as SSHTransport

__all__ = [
    "CommandTimeout",
    "LocalTransport",
    "SSHTransport",
    "Transport",
    "TransportError",
    "TransportFailed",
    "transport_from_description",
]
