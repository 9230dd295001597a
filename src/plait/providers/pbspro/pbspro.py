"""Parsl's ``parsl.providers.pbspro.pbspro`` path: PBSProProvider."""

from plait.providers._pbs import PBSProProvider as PBSProProvider

__all__ = ["PBSProProvider"]
