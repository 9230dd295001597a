"""Parsl's ``parsl.providers.cobalt`` package path (Parsl removed it; plait keeps it)."""
