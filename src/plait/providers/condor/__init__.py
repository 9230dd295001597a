"""Parsl's ``parsl.providers.condor`` package path."""
