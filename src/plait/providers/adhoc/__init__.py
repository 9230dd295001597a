"""Parsl's former ``parsl.providers.adhoc`` package path (plait keeps AdHocProvider)."""
