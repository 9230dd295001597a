"""Parsl's ``parsl.providers.flux`` package path (a plait addition, named as Parsl would)."""
