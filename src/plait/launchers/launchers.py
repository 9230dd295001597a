"""Parsl's ``parsl.launchers.launchers`` path: every launcher class."""

from plait.launchers._base import Launcher as Launcher
from plait.launchers._gnu_parallel import GnuParallelLauncher as GnuParallelLauncher
from plait.launchers._local import SimpleLauncher as SimpleLauncher
from plait.launchers._local import SingleNodeLauncher as SingleNodeLauncher
from plait.launchers._local import WrappedLauncher as WrappedLauncher
from plait.launchers._mpi import AprunLauncher as AprunLauncher
from plait.launchers._mpi import JsrunLauncher as JsrunLauncher
from plait.launchers._mpi import MpiExecLauncher as MpiExecLauncher
from plait.launchers._mpi import MpiRunLauncher as MpiRunLauncher
from plait.launchers._srun import SrunLauncher as SrunLauncher
from plait.launchers._srun import SrunMPILauncher as SrunMPILauncher

__all__ = [
    "AprunLauncher",
    "GnuParallelLauncher",
    "JsrunLauncher",
    "Launcher",
    "MpiExecLauncher",
    "MpiRunLauncher",
    "SimpleLauncher",
    "SingleNodeLauncher",
    "SrunLauncher",
    "SrunMPILauncher",
    "WrappedLauncher",
]
