"""Parsl's ``parsl.providers.local`` package path."""
