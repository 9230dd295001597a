"""Parsl's ``parsl.executors.high_throughput.mpi_executor`` path: MPIExecutor."""

from plait.executors.pilot._mpi import MPIExecutor as MPIExecutor

__all__ = ["MPIExecutor"]
