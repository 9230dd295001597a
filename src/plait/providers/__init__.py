"""Providers obtain blocks (batch jobs) of nodes on which an executor runs its workers."""

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
    "AWSProvider",
    "AzureProvider",
    "ClusterProvider",
    "CobaltProvider",
    "CondorProvider",
    "ExecutionProvider",
    "ExecutionProviderException",
    "FluxProvider",
    "GoogleCloudProvider",
    "GridEngineProvider",
    "JobState",
    "JobStatus",
    "KubernetesProvider",
    "LSFProvider",
    "LocalProvider",
    "OpenStackProvider",
    "PBSProProvider",
    "SSHTransport",
    "ScaleOutFailed",
    "SchedulerMissingArgs",
    "ScriptPathError",
    "SlurmProvider",
    "SubmitException",
    "TorqueProvider",
]

# Cloud providers load on first use (their SDKs load only when one is constructed).
_CLOUD = {
    "AWSProvider": "plait.providers.aws._provider",
    "AzureProvider": "plait.providers.azure._provider",
    "GoogleCloudProvider": "plait.providers.googlecloud._provider",
    "KubernetesProvider": "plait.providers.kubernetes._provider",
    "OpenStackProvider": "plait.providers.openstack._provider",
}


def __getattr__(name: str) -> object:
    module = _CLOUD.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
