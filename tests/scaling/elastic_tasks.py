"""Task functions for the elastic HTEX test (workers import this module by reference)."""

from __future__ import annotations

import os


def gated(beacon: str, gate: str, tag: str) -> str:
    """Announce ``tag pid`` on the beacon fifo, then wait until the test opens the gate."""
    with open(beacon, "w") as fh:
        fh.write(f"{tag} {os.getpid()}\n")
    with open(gate) as fh:
        fh.readline()
    return tag


def echo(value: str) -> str:
    return value
