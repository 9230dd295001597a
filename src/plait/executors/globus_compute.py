"""Parsl's ``parsl.executors.globus_compute`` path: GlobusComputeExecutor (not shipped)."""

from plait.executors._not_shipped import GlobusComputeExecutor as GlobusComputeExecutor

__all__ = ["GlobusComputeExecutor"]
