"""Errors the kernel's own decisions raise (the rest of its errors are in ``plait._errors``).

::

    DataFlowException
    └── TaskKilledWorker    the task is the likely cause of losing its worker: not retried
"""

from __future__ import annotations

from plait._errors import DataFlowException, describe_exit


class TaskKilledWorker(DataFlowException):
    """A task judged the likely cause of its worker's death, so it is not retried.

    plait retries a task lost with its worker on ``infrastructure_retries``; a task that
    kills its worker itself (a segfault, the out-of-memory killer reacting to its memory)
    would kill one worker per retry. So the kernel fails it at once when it was running on
    each of two lost workers, or when its worker died of a signal while using the most
    memory on its node. The last ``WorkerLost`` is the ``__cause__``.
    """

    def __init__(self, task_id: int, func_name: str, reason: str, worker_id: object,
                 hostname: str, exitcode: int | None = None, peak_rss: int | None = None,
                 log_path: str | None = None) -> None:
        super().__init__(task_id, func_name, reason, worker_id, hostname, exitcode,
                         peak_rss, log_path)
        self.task_id, self.func_name, self.reason = task_id, func_name, reason
        self.worker_id, self.hostname, self.exitcode = worker_id, hostname, exitcode
        self.peak_rss, self.log_path = peak_rss, log_path

    def __str__(self) -> str:
        memory = (f", at a peak memory of {format_bytes(self.peak_rss)}"
                  if self.peak_rss is not None else "")
        log = f" Its log is {self.log_path}." if self.log_path else ""
        return (f"task {self.task_id} ({self.func_name}) is the likely cause of losing its "
                f"worker: {self.reason}. Worker {self.worker_id} on {self.hostname} "
                f"{describe_exit(self.exitcode)}{memory}; the task was not retried.{log} "
                "If it ran out of memory, give it more (mem_per_worker, fewer workers per "
                "node) or make it use less; Config(infrastructure_retries=0) instead counts "
                "lost workers against retries, as Parsl does.")


def format_bytes(n: int) -> str:
    """``3435973836`` → ``'3.2 GiB'``."""
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
