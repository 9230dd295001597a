"""Parsl's ``parsl.usage_tracking`` package path. plait never sends usage data: the levels
exist so that configs naming them load, and ``Config(usage_tracking=...)`` validates them."""
