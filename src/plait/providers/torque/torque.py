"""Parsl's ``parsl.providers.torque.torque`` path: TorqueProvider."""

from plait.providers._pbs import TorqueProvider as TorqueProvider

__all__ = ["TorqueProvider"]
