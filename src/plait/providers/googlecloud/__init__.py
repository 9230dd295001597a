"""Parsl's ``parsl.providers.googlecloud`` package path."""
