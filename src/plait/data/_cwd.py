"""The directory a task runs in when it has a sandbox but may not chdir (threads)."""

from __future__ import annotations

from contextvars import ContextVar

#: set by the sandbox around a task that shares its process with other tasks: bash apps
#: start their command there (the process-wide cwd is never changed on threads)
TASK_CWD: ContextVar[str | None] = ContextVar("plait_task_cwd", default=None)
