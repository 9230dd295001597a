"""Parsl's ``parsl.providers.lsf`` package path."""
