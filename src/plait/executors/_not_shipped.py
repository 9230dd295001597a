"""Parsl executors built on services plait does not ship: importable, refused when built.

A migrated config that names one fails at once, when the executor is constructed, with an
ExecutorNotShipped that says what the executor needs and what to use instead, rather than
at import (which would hide every other problem in the script) or at the first task.
"""

from __future__ import annotations

from typing import Any

from plait._errors import AppException, PlaitError
from plait.executors._errors import ExecutorNotShipped

_HTEX = ("Use HighThroughputExecutor: it starts its own workers in blocks from the same "
         "providers (LocalProvider, SlurmProvider, ...)")


class _NotShipped:
    needs = ""
    instead = _HTEX

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ExecutorNotShipped(type(self).__name__, self.needs, self.instead)


class WorkQueueExecutor(_NotShipped):
    """Parsl's executor on CCTools Work Queue (not shipped: raises ExecutorNotShipped)."""

    needs = "CCTools Work Queue (the ndcctools.work_queue module and work_queue_worker)"
    instead = (_HTEX + "; parsl_resource_specification cores/memory map to its 'cores' and "
               "'memory' keys.")


class TaskVineExecutor(_NotShipped):
    """Parsl's executor on CCTools TaskVine (not shipped: raises ExecutorNotShipped)."""

    needs = "CCTools TaskVine (the ndcctools.taskvine module and vine_worker)"
    instead = WorkQueueExecutor.instead


class FluxExecutor(_NotShipped):
    """Parsl's executor on a Flux instance (not shipped: raises ExecutorNotShipped)."""

    needs = "the Flux framework (flux-core and its Python bindings)"
    instead = ("Use MPIExecutor for multi-node MPI tasks, or HighThroughputExecutor for "
               "single-node tasks")


class RadicalPilotExecutor(_NotShipped):
    """Parsl's executor on RADICAL-Pilot (not shipped: raises ExecutorNotShipped)."""

    needs = "RADICAL-Pilot (the radical.pilot module and its MongoDB/ZMQ services)"
    instead = FluxExecutor.instead


class GlobusComputeExecutor(_NotShipped):
    """Parsl's executor on a Globus Compute endpoint (not shipped: raises ExecutorNotShipped)."""

    needs = "the Globus Compute service (globus_compute_sdk and a registered endpoint)"
    instead = (_HTEX + "; to reach a remote cluster, run the workers there through a "
               "provider's SSH transport.")


class _Options:
    """Settings records of the executors above; accepted so that the executor is the one
    that explains what is missing."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


class TaskVineManagerConfig(_Options):
    """Parsl's TaskVine manager settings (TaskVineExecutor is not shipped)."""


class TaskVineFactoryConfig(_Options):
    """Parsl's TaskVine worker-factory settings (TaskVineExecutor is not shipped)."""


class ResourceConfig(_Options):
    """Parsl's RADICAL-Pilot resource settings (RadicalPilotExecutor is not shipped)."""


# Errors of the executors above, under Parsl's names, so that a script that catches one still
# imports; plait never raises them (building the executor is what fails).
class WorkQueueFailure(PlaitError):
    """Parsl's Work Queue executor error (never raised: WorkQueueExecutor is not shipped)."""


class WorkQueueTaskFailure(AppException):
    """Parsl's Work Queue task error (never raised: WorkQueueExecutor is not shipped)."""


class TaskVineTaskFailure(AppException):
    """Parsl's TaskVine task error (never raised: TaskVineExecutor is not shipped)."""


class TaskVineManagerFailure(PlaitError):
    """Parsl's TaskVine manager error (never raised: TaskVineExecutor is not shipped)."""


class TaskVineFactoryFailure(PlaitError):
    """Parsl's TaskVine factory error (never raised: TaskVineExecutor is not shipped)."""
