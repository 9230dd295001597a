"""Parsl's import path for HTEXRadio (``parsl.monitoring.radios.htex``)."""

from plait.monitoring.radios._radios import HTEXRadio as HTEXRadio

__all__ = ["HTEXRadio"]
