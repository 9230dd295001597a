"""Parsl's ``parsl.providers.googlecloud`` package: Compute Engine (``plait[googlecloud]``)."""
