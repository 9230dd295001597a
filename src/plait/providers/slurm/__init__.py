"""Parsl's ``parsl.providers.slurm`` package path."""
