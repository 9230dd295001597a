"""Parsl's ``parsl.providers.slurm.slurm`` path: SlurmProvider."""

from plait.providers._slurm import SlurmProvider as SlurmProvider

__all__ = ["SlurmProvider"]
