"""Parsl's former ``parsl.providers.adhoc.adhoc`` path: AdHocProvider."""

from plait.providers._adhoc import AdHocProvider as AdHocProvider

__all__ = ["AdHocProvider"]
