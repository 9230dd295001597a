"""Running a bash app where the task runs: build the command, redirect output, check results."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any

from plait._children import kill_group, track
from plait._errors import (
    AppBadFormatting,
    AppException,
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
)
from plait.data._cwd import TASK_CWD
from plait.data._files import File

#: special keyword arguments; passed to the app body only if it declares them
SPECIAL_KWARGS = frozenset({"stdout", "stderr", "walltime", "parsl_resource_specification",
                            "inputs", "outputs", "label", "_parsl_staging_inhibit"})


def run_bash_app(func: Callable[..., Any], app_name: str, accepted: frozenset[str] | None,
                 *args: Any, **kwargs: Any) -> int:
    """Call the bash app body for its command line and run it; return its exit code (0).

    ``accepted`` names the keyword arguments the body takes (None: it takes ``**kwargs``).
    """
    body_kwargs = kwargs if accepted is None else {
        k: v for k, v in kwargs.items() if k in accepted or k not in SPECIAL_KWARGS}
    try:
        command = func(*args, **body_kwargs)
    except AttributeError as exc:
        raise BashAppNoReturn(f"bash_app {app_name} raised {exc!r} while building its "
                              "command line") from exc
    except IndexError as exc:
        raise AppBadFormatting(f"bash_app {app_name} could not format its command line: "
                               f"{exc!r}") from exc
    if not isinstance(command, str):
        raise BashAppNoReturn(
            f"bash_app {app_name} must return the command line to run as a str, but it "
            f"returned {type(command).__name__} {command!r}")
    stdout_path, stdout = _open_stream("stdout", kwargs.get("stdout"))
    stderr_path, stderr = _open_stream("stderr", kwargs.get("stderr"))
    try:
        code = _run(command, app_name, kwargs.get("walltime"), stdout, stderr)
    finally:
        for stream in (stdout, stderr):
            if stream is not None:
                stream.close()
    if code != 0:
        raise BashExitFailure(app_name, code, stdout_path, stderr_path)
    missing = [f for f in kwargs.get("outputs") or () if not os.path.exists(os.fspath(f))]
    if missing:
        raise MissingOutputs(f"bash_app {app_name} exited 0 but did not create them", missing)
    return code


def _run(command: str, app_name: str, walltime: float | None,
         stdout: IO[Any] | None, stderr: IO[Any] | None) -> int:
    import subprocess  # here, not at module level: keeps `import plait` fast

    try:
        proc = subprocess.Popen(command, shell=True, executable="/bin/bash", stdout=stdout,
                                stderr=stderr, start_new_session=True, cwd=TASK_CWD.get())
    except OSError as exc:
        raise AppException(f"bash_app {app_name} could not start /bin/bash: {exc}") from exc
    with track(proc):
        try:
            return proc.wait(timeout=walltime)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise AppTimeout(f"App {app_name} exceeded walltime: {walltime} seconds") from None
        except BaseException:
            kill_group(proc)  # interrupted, or timed out by a Python walltime: leave nothing
            raise


def _open_stream(name: str, spec: Any) -> tuple[str | None, IO[Any] | None]:
    """Open a stdout/stderr target: a path (append), ``(path, mode)`` or a File (write)."""
    if spec is None:
        return None, None
    mode = "a+"
    if isinstance(spec, File):
        path, mode = spec.filepath, "w"
    elif isinstance(spec, (str, os.PathLike)):
        path = os.fspath(spec)
    elif (isinstance(spec, tuple) and len(spec) == 2
          and isinstance(spec[0], (str, os.PathLike)) and isinstance(spec[1], str)):
        path, mode = os.fspath(spec[0]), spec[1]
    else:
        raise BadStdStreamFile(f"{name}={spec!r}: expected a path, a (path, mode) tuple or "
                               "a File")
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        return path, open(path, mode)
    except (OSError, ValueError) as exc:
        raise BadStdStreamFile(f"{name} {path!r} could not be opened with mode {mode!r}: "
                               f"{exc}") from exc
