"""Parsl's ``parsl.executors.flux`` package path (Flux is not shipped)."""
