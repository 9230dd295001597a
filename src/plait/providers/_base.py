"""ExecutionProvider: the interface through which executors obtain and release blocks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from plait._validate import check_int, check_number, check_str, fail
from plait.launchers import BadLauncher, Launcher
from plait.providers._jobs import JobStatus


class ExecutionProvider(ABC):
    """Obtains blocks (batch jobs) that run an executor's worker command.

    Attributes follow Parsl: ``label``, ``init_blocks``, ``min_blocks``, ``max_blocks``,
    ``nodes_per_block``, ``parallelism`` (0..1, slots wanted per task), ``worker_init``,
    ``script_dir`` (set by the kernel to ``<run_dir>/submit_scripts``), ``cores_per_node`` and
    ``mem_per_node`` (None when unknown), ``launcher``, ``resources`` (job id → facts) and
    ``status_polling_interval`` (seconds between status refreshes). ``is_local`` (plait's)
    is True when every block runs on this host: the pilot executor then listens for its
    managers on loopback only and starts them with this interpreter.
    """

    label: str = "provider"
    init_blocks: int = 1
    min_blocks: int = 0
    max_blocks: int = 1
    nodes_per_block: int = 1
    parallelism: float = 1.0
    worker_init: str = ""
    script_dir: str | None = None
    cores_per_node: int | None = None
    mem_per_node: float | None = None
    launcher: Launcher | None = None
    status_polling_interval: float = 60.0
    is_local: bool = False

    def __init__(
        self, *, label: str, init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 1,
        nodes_per_block: int = 1, parallelism: float = 1, worker_init: str = "",
        launcher: Launcher | None = None, status_polling_interval: float = 60.0,
    ) -> None:
        self.label = label
        self.init_blocks, self.min_blocks, self.max_blocks = init_blocks, min_blocks, max_blocks
        self.nodes_per_block, self.parallelism = nodes_per_block, parallelism
        self.worker_init = worker_init
        self.launcher = launcher
        self.status_polling_interval = status_polling_interval
        self.script_dir = None
        self.resources: dict[str, dict[str, Any]] = {}
        self.validate()

    def validate(self) -> None:
        """Check the common fields; raise ConfigurationError (BadLauncher is one) naming them.

        Contradictory block counts are errors here, not a warning at exit: Parsl starts
        ``init_blocks`` above ``max_blocks`` regardless, plait refuses the pair.
        """
        name = type(self).__name__
        check_str("label", self.label, owner=name)
        for field in ("init_blocks", "min_blocks", "max_blocks", "nodes_per_block"):
            check_int(field, getattr(self, field), low=1 if field == "nodes_per_block" else 0,
                      owner=name)
        for field in ("min_blocks", "init_blocks"):
            if getattr(self, field) > self.max_blocks:
                raise fail(field, getattr(self, field), f"at most max_blocks={self.max_blocks}",
                           name, f"Raise max_blocks or lower {field}.")
        check_number("parallelism", self.parallelism, low=0, high=1, owner=name)
        check_str("worker_init", self.worker_init, empty=True, owner=name)
        check_number("status_polling_interval", self.status_polling_interval, low=0,
                     owner=name, kind="a number of seconds")
        if self.launcher is not None:
            check_launcher(self.launcher, name)

    @abstractmethod
    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        """Submit a block running ``command``; return its job id.

        Raises:
            SubmitException: the job could not be submitted; names the job and the reason.
        """

    @abstractmethod
    def status(self, job_ids: list[str]) -> list[JobStatus]:
        """Return the status of each job, in the order given."""

    @abstractmethod
    def cancel(self, job_ids: list[str]) -> list[bool]:
        """Cancel the jobs; return, for each, whether the cancel request succeeded."""


def check_launcher(launcher: object, provider_name: str) -> None:
    """Raise BadLauncher unless ``launcher`` is a Launcher instance."""
    if isinstance(launcher, type) and issubclass(launcher, Launcher):
        raise BadLauncher(launcher, f"{provider_name} got the class, not an instance")
    if not isinstance(launcher, Launcher):
        raise BadLauncher(launcher, f"{provider_name} needs a plait.launchers.Launcher")
