"""Parsl's ``parsl.dataflow.rundirs`` path: numbered run directories."""

from plait.dataflow._rundir import make_rundir as make_rundir

__all__ = ["make_rundir"]
