"""Parsl's ``parsl.providers.grid_engine`` package path."""
