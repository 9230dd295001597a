"""Parsl's ``parsl.providers.azure`` package path."""
