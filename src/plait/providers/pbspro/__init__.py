"""Parsl's ``parsl.providers.pbspro`` package path."""
