"""Parsl's ``parsl.providers.kubernetes`` package path."""
