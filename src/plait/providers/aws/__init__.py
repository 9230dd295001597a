"""Parsl's ``parsl.providers.aws`` package path."""
