"""Rebuild a transport from the plain data its ``describe()`` gave (job journals store it)."""

from __future__ import annotations

from typing import Any

from plait.transport._base import Transport
from plait.transport._local import LocalTransport


def transport_from_description(desc: dict[str, Any]) -> Transport:
    """The transport ``desc`` describes; ``{"kind": "local"}`` or ``{"kind": "ssh", ...}``."""
    fields = {k: v for k, v in desc.items() if k != "kind"}
    if desc.get("kind") == "ssh":
        from plait.transport._ssh import SSHTransport

        return SSHTransport(**fields)
    return LocalTransport(**fields)
