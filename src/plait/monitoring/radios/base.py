"""Parsl's import path for RadioConfig (``parsl.monitoring.radios.base``)."""

from plait.monitoring.radios._radios import RadioConfig as RadioConfig

__all__ = ["RadioConfig"]
