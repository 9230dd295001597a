"""Every exception plait raises, in one tree; the public face is :mod:`plait.errors`.

::

    PlaitError (also exported as ParslError)
    ├── ConfigurationError              a Config field or app argument is wrong
    │   └── BadLauncher                 (plait.launchers) a provider got no launcher instance
    ├── OptionalModuleMissing           an extra is not installed
    ├── NotYetAvailable                 a Parsl name whose implementation is not in this release
    ├── InternalConsistencyError        a plait bug: please report it
    ├── NoDataFlowKernelError           no kernel loaded, or it was cleaned up
    ├── AppException                    raised by the execution of an app
    │   ├── BashExitFailure             the command exited non-zero
    │   ├── AppTimeout                  walltime exceeded
    │   └── BashAppNoReturn             the bash app body did not return a command
    ├── AppBadFormatting                the command line could not be formatted
    ├── MissingOutputs                  declared outputs were not created
    ├── BadStdStreamFile                stdout/stderr could not be opened
    ├── DataFlowException
    │   ├── BadCheckpoint               a checkpoint store is unusable
    │   ├── TaskCancelled               AppFuture.cancel() was called
    │   └── PropagatedException         carries failures of other tasks
    │       ├── DependencyError         a dependency failed; the task never ran
    │       └── JoinError               a future returned by a join app failed
    ├── SerializationError / DeserializationError
    ├── ExecutorError                   (see plait.executors._errors)
    └── CWLError                        (see plait.cwl._errors)

Errors carry their facts as fields and build their message in ``__str__``. They pass
their positional constructor arguments to ``Exception.__init__`` so they survive pickling
across processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any


class PlaitError(Exception):
    """Base class of every error plait raises (Parsl's ``ParslError``)."""


ParslError = PlaitError


class ConfigurationError(PlaitError):
    """A configuration field or argument has a value plait cannot use.

    Built either from a plain message, or from (field, value, allowed[, hint]) so that the
    message names the field, what was given and what is accepted.
    """

    def __init__(
        self, field_or_message: str, value: object = None, allowed: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(field_or_message, value, allowed, hint)
        self.field = field_or_message if allowed is not None else None
        self.value, self.allowed, self.hint = value, allowed, hint
        self._message = field_or_message

    def __str__(self) -> str:
        if self.allowed is None:
            return self._message
        text = f"{self.field}={self.value!r} is not valid: expected {self.allowed}"
        return f"{text}. {self.hint}" if self.hint else text


class OptionalModuleMissing(PlaitError):
    """A feature needs a module that is not installed."""

    def __init__(self, module_names: Sequence[str], reason: str) -> None:
        super().__init__(module_names, reason)
        self.module_names, self.reason = list(module_names), reason

    def __str__(self) -> str:
        names = ", ".join(self.module_names)
        return f"{self.reason}: missing module(s) {names}; install them with pip."


class NotYetAvailable(PlaitError, ImportError):
    """A Parsl name whose import path plait keeps, but which this release does not provide.

    Also an ImportError, so ``from plait.x import Name`` fails with this message.
    """

    def __init__(self, feature: str, module: str, hint: str) -> None:
        super().__init__(feature, module, hint)
        self.feature, self.module, self.hint = feature, module, hint

    def __str__(self) -> str:
        from plait._version import __version__

        return (f"{self.module}.{self.feature} is not in plait {__version__} yet; "
                f"{self.hint}")


class InternalConsistencyError(PlaitError):
    """plait reached a state it should never reach: a bug worth reporting."""


class NoDataFlowKernelError(PlaitError):
    """No DataFlowKernel is loaded, or the one an app is bound to was cleaned up."""


class AppException(PlaitError):
    """Raised by the execution of an app (Parsl's base for bash and timeout failures)."""


class BashExitFailure(AppException):
    """A bash app's command exited with a non-zero code."""

    def __init__(
        self, app_name: str, exitcode: int, stdout: str | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(app_name, exitcode, stdout, stderr)
        self.app_name, self.exitcode = app_name, exitcode
        self.stdout, self.stderr = stdout, stderr

    def __str__(self) -> str:
        text = f"bash_app {self.app_name} failed with unix exit code {self.exitcode}"
        hint = _EXIT_HINTS.get(self.exitcode)
        if hint:
            text += f" ({hint})"
        streams = [f"{name} in {path}" for name, path in
                   (("stdout", self.stdout), ("stderr", self.stderr)) if path]
        if streams:
            return f"{text}; its {' and '.join(streams)}"
        return f"{text}; pass stdout=/stderr= to the app to keep its output"


_EXIT_HINTS = {
    126: "the command is not executable",
    127: "command not found: check the program name and PATH",
}


class AppTimeout(AppException):
    """An app ran longer than its ``walltime``."""


class BashAppNoReturn(AppException):
    """The body of a bash app did not return a command line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class AppBadFormatting(PlaitError):
    """A bash app's command line could not be formatted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class MissingOutputs(PlaitError):
    """An app finished but some files it declared in ``outputs`` do not exist."""

    def __init__(self, reason: str, outputs: Sequence[Any]) -> None:
        super().__init__(reason, outputs)
        self.reason, self.outputs = reason, list(outputs)

    def __str__(self) -> str:
        paths = ", ".join(str(o) for o in self.outputs)
        return f"{self.reason}: missing output file(s) {paths}"


class BadStdStreamFile(PlaitError):
    """A stdout/stderr target could not be opened or has the wrong form."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"Bad Stream File: {self.reason}"


class DataFlowException(PlaitError):
    """Base class of errors raised by the DataFlowKernel itself."""


class BadCheckpoint(DataFlowException):
    """A checkpoint could not be read or written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class TaskCancelled(DataFlowException):
    """The task was cancelled with ``AppFuture.cancel()`` before it was launched."""

    def __init__(self, task_id: int, func_name: str) -> None:
        super().__init__(task_id, func_name)
        self.task_id, self.func_name = task_id, func_name

    def __str__(self) -> str:
        return f"task {self.task_id} ({self.func_name}) was cancelled before it ran"


class PropagatedException(DataFlowException):
    """Carries the failures of other tasks into this one.

    ``dependent_exceptions_tids`` is a list of ``(exception, description)`` pairs, one per
    failed future; ``__cause__`` is the root cause: the first exception in the chain that
    is not itself a propagated failure.
    """

    kind = "Propagated failure"

    def __init__(
        self, dependent_exceptions_tids: Sequence[tuple[BaseException, str | None]],
        task_id: int, func_name: str | None = None,
    ) -> None:
        super().__init__(dependent_exceptions_tids, task_id, func_name)
        self.dependent_exceptions_tids = list(dependent_exceptions_tids)
        self.task_id, self.func_name = task_id, func_name
        chain, root = self._root_chain()
        self._chain = chain
        self.root_cause = root
        self.__cause__ = root

    def _root_chain(self) -> tuple[list[str], BaseException | None]:
        chain: list[str] = []
        exc: BaseException | None = self
        while isinstance(exc, PropagatedException) and exc.dependent_exceptions_tids:
            exc, description = exc.dependent_exceptions_tids[0]
            chain.append(description or "unknown")
        return chain, exc

    def __str__(self) -> str:
        me = f"task {self.task_id}" + (f" ({self.func_name})" if self.func_name else "")
        failed = ", ".join(d or "unknown" for _, d in self.dependent_exceptions_tids)
        text = f"{self.kind} for {me}: failed {failed}"
        if self.root_cause is not None and self.root_cause is not self:
            via = " <- ".join(self._chain)
            text += (f". Root cause, via {via}: "
                     f"{type(self.root_cause).__name__}: {self.root_cause}")
        return text


class DependencyError(PropagatedException):
    """A dependency of this task failed, so the task was not run."""

    kind = "Dependency failure"


class JoinError(PropagatedException):
    """A future returned by a join app's body failed."""

    kind = "Join failure"


class SerializationError(PlaitError):
    """A function, argument or result could not be serialized to cross a process boundary."""

    def __init__(self, fname: str, reason: str = "") -> None:
        super().__init__(fname, reason)
        self.fname, self.reason = fname, reason

    def __str__(self) -> str:
        return (f"Failed to serialize {self.fname}: {self.reason}. Arguments and results of "
                "apps on process-based executors must be picklable (no open files, locks, "
                "generators or sockets); pass a path or build the object inside the app.")


class DeserializationError(PlaitError):
    """A payload could not be deserialized."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return (f"Failed to deserialize: {self.reason}. Check that the worker's Python and "
                "package versions match the submitting side's.")


def describe_future(fut: Future[Any]) -> str:
    """Name a failed future the way dependency errors do: task id and app name if known."""
    describe = getattr(fut, "describe", None)
    if describe is not None:
        return str(describe())
    return repr(fut)


def describe_exit(code: int | None) -> str:
    """Describe a process exit status: ``-9`` → 'was killed by SIGKILL (often the OOM killer)'."""
    if code is None:
        return "exited with an unknown status"
    if code < 0:
        import signal  # here, not at module level: keeps `import plait` fast

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        text = f"was killed by {name}({code})"
        if -code == signal.SIGKILL:
            text += " (often the out-of-memory killer, or a kill -9)"
        return text
    return f"exited with code {code}"
