"""Parsl's ``parsl.providers.torque`` package path."""
