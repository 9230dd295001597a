"""Parsl's import path for UDPRadio (``parsl.monitoring.radios.udp``)."""

from plait.monitoring.radios._radios import UDPRadio as UDPRadio

__all__ = ["UDPRadio"]
