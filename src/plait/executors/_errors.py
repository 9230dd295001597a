"""Errors raised by executors, with infrastructure loss kept apart from failed user code.

::

    ExecutorError(executor, reason)
    ├── BadStateException               the executor is broken; every task fails with this
    ├── UnsupportedFeatureError         the executor cannot do what the task asked
    ├── InvalidResourceSpecification    parsl_resource_specification has unknown keys
    ├── ScalingFailed                   a block could not be obtained
    ├── BadMessage                      a malformed message arrived on the wire
    ├── VersionMismatch                 a worker runs another Python or plait version
    ├── BlockCancelled                  the block was cancelled outside plait mid-task
    └── InfrastructureError             the task was lost with a component, not by its code
        ├── WorkerLost                  a worker process died mid-task
        ├── ManagerLost                 a node's manager died or went silent
        ├── BlockFailed                 a block ended or never started its workers
        │   ├── TooManyJobFailures      every block failed: the executor gave up (also a
        │   │                           BadStateException; Parsl's TooManyJobFailuresError)
        │   ├── WalltimeExceeded        the scheduler ended the block at its walltime
        │   └── NodeFailure             the block's node failed, or the job was preempted
        └── InterchangeLost             the interchange process died or stopped answering

Apart from the tree: ``ExecutorNotShipped`` (an OptionalModuleMissing) is raised when a
config builds a Parsl executor that needs a service plait does not ship (Work Queue, …).

The kernel retries an ``InfrastructureError`` on a budget of its own
(``Config.infrastructure_retries``), without consuming the user's ``retries``.
"""

from __future__ import annotations

from collections.abc import Sequence

from plait._errors import OptionalModuleMissing, PlaitError, describe_exit


class ExecutorError(PlaitError):
    """An executor could not run a task."""

    def __init__(self, executor: object, reason: str) -> None:
        super().__init__(executor, reason)
        self.executor, self.reason = executor, reason

    def __str__(self) -> str:
        label = getattr(self.executor, "label", self.executor)
        return f"Executor {label} failed: {self.reason}"


class BadStateException(ExecutorError):
    """The executor is in a state where it cannot run any task."""


class UnsupportedFeatureError(ExecutorError):
    """The executor does not support a feature the task needs."""

    def __init__(self, feature: str, current_executor: str, target_executor: str | None) -> None:
        reason = f"{feature} is not supported by {current_executor}"
        if target_executor:
            reason += f"; use {target_executor} instead"
        super().__init__(current_executor, reason)
        self.args = (feature, current_executor, target_executor)


class InvalidResourceSpecification(ExecutorError):
    """A ``parsl_resource_specification`` names keys this executor does not accept."""

    def __init__(self, invalid_keys: Sequence[str], message: str = "") -> None:
        super().__init__("resource specification", message)
        self.args = (invalid_keys, message)
        self.invalid_keys, self.message = set(invalid_keys), message

    def __str__(self) -> str:
        keys = ", ".join(sorted(self.invalid_keys))
        return f"Invalid resource specification key(s) {keys}: {self.message}"


class ScalingFailed(ExecutorError):
    """The executor could not obtain a block."""


class BadMessage(ExecutorError):
    """A message on the wire could not be understood."""


class VersionMismatch(ExecutorError):
    """A remote component runs a different Python or plait version."""

    def __init__(self, table: str) -> None:
        super().__init__("version check", table)
        self.args = (table,)

    def __str__(self) -> str:
        return ("Worker and submitter versions differ; install the same versions on both:\n"
                + self.reason)


class InfrastructureError(ExecutorError):
    """A task was lost with the component running it; the task's own code did not fail."""


class WorkerLost(InfrastructureError):
    """The worker process running a task died before returning a result.

    Memory facts, from the manager's samples (taken at each heartbeat, so a spike just before
    the death may be missed): ``peak_rss`` is the worker's highest resident memory seen, in
    bytes (None: never sampled); ``highest_rss_on_node`` says whether, at the latest sample,
    it held the most memory of the node's workers (a hint that its task used the memory).
    """

    def __init__(
        self, worker_id: object, hostname: str, task_id: int | None = None,
        exitcode: int | None = None, log_path: str | None = None, *,
        peak_rss: int | None = None, highest_rss_on_node: bool = False,
    ) -> None:
        super().__init__(f"worker {worker_id}", "worker lost")
        self.args = (worker_id, hostname, task_id, exitcode, log_path)
        self.worker_id, self.hostname, self.task_id = worker_id, hostname, task_id
        self.exitcode, self.log_path = exitcode, log_path
        self.peak_rss, self.highest_rss_on_node = peak_rss, highest_rss_on_node

    def __str__(self) -> str:
        task = f"task {self.task_id}: " if self.task_id is not None else ""
        where = f"; its log is {self.log_path}" if self.log_path else ""
        memory = ""
        if self.peak_rss is not None:
            memory = f"; its peak memory was {_size(self.peak_rss)}"
            if self.highest_rss_on_node:
                memory += ", the most of the node's workers"
        return (f"{task}worker {self.worker_id} on {self.hostname} "
                f"{describe_exit(self.exitcode)} while running it{memory}{where}. If memory "
                "ran out, raise mem_per_worker or lower max_workers_per_node.")


def _size(nbytes: int) -> str:
    if nbytes >= 1 << 30:
        return f"{nbytes / (1 << 30):.1f} GiB"
    return f"{nbytes / (1 << 20):.0f} MiB"


class ManagerLost(InfrastructureError):
    """The manager of a node died or stopped sending heartbeats."""

    def __init__(self, manager_id: object, hostname: str, reason: str = "") -> None:
        super().__init__(f"manager {manager_id}", reason or "manager lost")
        self.args = (manager_id, hostname, reason)
        self.manager_id, self.hostname = manager_id, hostname

    def __str__(self) -> str:
        why = self.reason if self.reason != "manager lost" else "stopped responding"
        return (f"manager {self.manager_id} on {self.hostname} was lost ({why}); the task "
                "was running there. Check the block's job logs (walltime, node failure, "
                "out of memory) in the run directory.")


class BlockFailed(InfrastructureError):
    """A block (pilot job) ended, or its workers never connected."""

    def __init__(
        self, block_id: str, reason: str, exitcode: int | None = None, stderr_tail: str = "",
    ) -> None:
        super().__init__(f"block {block_id}", reason)
        self.args = (block_id, reason, exitcode, stderr_tail)
        self.block_id, self.exitcode, self.stderr_tail = block_id, exitcode, stderr_tail

    def __str__(self) -> str:
        text = f"block {self.block_id} failed: {self.reason}"
        if self.exitcode is not None:
            text += f"; it {describe_exit(self.exitcode)}"
        if self.stderr_tail:
            text += f"\n--- end of its stderr ---\n{self.stderr_tail}"
        return text


class TooManyJobFailures(BlockFailed, BadStateException):
    """The executor's blocks keep failing or never start, so it is in a bad state: every
    task fails with this (Parsl's ``TooManyJobFailuresError``, a BadStateException)."""


class InterchangeLost(InfrastructureError):
    """The interchange process died, or stopped answering; every task it held is lost.

    ``unresponsive`` says why a live interchange was given up (it was then killed); it is
    None when the process died on its own.
    """

    def __init__(
        self, exitcode: int | None, log_path: str | None = None, *, pid: int | None = None,
        hostname: str | None = None, unresponsive: str | None = None,
    ) -> None:
        super().__init__("interchange", "interchange lost")
        self.args = (exitcode, log_path)
        self.exitcode, self.log_path = exitcode, log_path
        self.pid, self.hostname, self.unresponsive = pid, hostname, unresponsive

    def __str__(self) -> str:
        who = "the interchange process"
        if self.pid is not None:
            who += f" (pid {self.pid}" + (f" on {self.hostname})" if self.hostname else ")")
        where = f"; see {self.log_path}" if self.log_path else ""
        if self.unresponsive:
            return (f"{who} was unresponsive although alive: {self.unresponsive} (stopped, "
                    f"frozen or swapping?). It was killed and its tasks are lost{where}. On an "
                    "overloaded machine, raise heartbeat_threshold.")
        return f"{who} {describe_exit(self.exitcode)}; its tasks are lost{where}"


class ExecutorNotShipped(OptionalModuleMissing):
    """A Parsl executor that needs an outside service plait does not ship or drive."""

    def __init__(self, executor: str, needs: str, instead: str) -> None:
        super().__init__([needs], f"{executor} needs {needs}")
        self.args = (executor, needs, instead)
        self.executor, self.needs, self.instead = executor, needs, instead

    def __str__(self) -> str:
        return (f"{self.executor} needs {self.needs}, which plait does not ship. "
                f"{self.instead}")


class WalltimeExceeded(BlockFailed):
    """The scheduler killed a block at its walltime while it ran the task.

    An infrastructure loss: the kernel retries the task on a new block without spending the
    user's ``retries``.
    """

    def __init__(self, block_id: str, job_id: str, walltime: str, scheduler_state: str) -> None:
        super().__init__(block_id, f"job {job_id} hit its walltime {walltime}")
        self.args = (block_id, job_id, walltime, scheduler_state)
        self.job_id, self.walltime, self.scheduler_state = job_id, walltime, scheduler_state

    def __str__(self) -> str:
        return (f"block {self.block_id} (job {self.job_id}) hit its walltime {self.walltime} "
                f"and the scheduler ended it while the task ran ({self.scheduler_state}). "
                "plait retries such a task on a new block without spending Config.retries "
                "(Config.infrastructure_retries bounds it). Blocks take no new task near the "
                "end of their walltime; a single task that runs longer than the walltime needs "
                "a longer walltime.")


class NodeFailure(BlockFailed):
    """A block's node failed (or the job was preempted) while it ran the task."""

    def __init__(self, block_id: str, job_id: str, scheduler_state: str) -> None:
        super().__init__(block_id, f"job {job_id}: {scheduler_state}")
        self.args = (block_id, job_id, scheduler_state)
        self.job_id, self.scheduler_state = job_id, scheduler_state

    def __str__(self) -> str:
        return (f"block {self.block_id} (job {self.job_id}) was lost while it ran the task: "
                f"{self.scheduler_state}. A node failure or preemption is not the task's "
                "fault: plait retries it on a new block without spending Config.retries.")


class BlockCancelled(ExecutorError):
    """A block was cancelled outside plait (scancel, qdel, an administrator) mid-task.

    Not an infrastructure loss: someone chose to end the job, so the task is retried only
    if ``Config.retries`` allows.
    """

    def __init__(self, block_id: str, job_id: str, scheduler_state: str) -> None:
        super().__init__(f"block {block_id}", f"job {job_id} was cancelled")
        self.args = (block_id, job_id, scheduler_state)
        self.block_id, self.job_id, self.scheduler_state = block_id, job_id, scheduler_state

    def __str__(self) -> str:
        return (f"block {self.block_id} (job {self.job_id}) was cancelled outside plait while "
                f"it ran the task ({self.scheduler_state}): by `scancel`/`qdel`/`bkill`, or "
                "by an administrator. The task is retried only if Config.retries allows; "
                "plait starts a new block for the tasks that remain.")
