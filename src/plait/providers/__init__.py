"""Providers obtain blocks (batch jobs) of nodes on which an executor runs its workers."""

from plait.providers._adhoc import AdHocProvider as AdHocProvider
from plait.providers._base import ExecutionProvider as ExecutionProvider
from plait.providers._cluster import ClusterProvider as ClusterProvider
from plait.providers._cobalt import CobaltProvider as CobaltProvider
from plait.providers._condor import CondorProvider as CondorProvider
from plait.providers._errors import ExecutionProviderException as ExecutionProviderException
from plait.providers._errors import ScaleOutFailed as ScaleOutFailed
from plait.providers._errors import SchedulerMissingArgs as SchedulerMissingArgs
from plait.providers._errors import ScriptPathError as ScriptPathError
from plait.providers._errors import SubmitException as SubmitException
from plait.providers._flux import FluxProvider as FluxProvider
from plait.providers._gridengine import GridEngineProvider as GridEngineProvider
from plait.providers._jobs import TERMINAL_STATES as TERMINAL_STATES
from plait.providers._jobs import JobState as JobState
from plait.providers._jobs import JobStatus as JobStatus
from plait.providers._local import LocalProvider as LocalProvider
from plait.providers._lsf import LSFProvider as LSFProvider
from plait.providers._pbs import PBSProProvider as PBSProProvider
from plait.providers._pbs import TorqueProvider as TorqueProvider
from plait.providers._slurm import SlurmProvider as SlurmProvider
from plait.transport import SSHTransport as SSHTransport

__all__ = [
    "TERMINAL_STATES",
    "AdHocProvider",
    "ClusterProvider",
    "CobaltProvider",
    "CondorProvider",
    "ExecutionProvider",
    "ExecutionProviderException",
    "FluxProvider",
    "GridEngineProvider",
    "JobState",
    "JobStatus",
    "LSFProvider",
    "LocalProvider",
    "PBSProProvider",
    "SSHTransport",
    "ScaleOutFailed",
    "SchedulerMissingArgs",
    "ScriptPathError",
    "SlurmProvider",
    "SubmitException",
    "TorqueProvider",
]
