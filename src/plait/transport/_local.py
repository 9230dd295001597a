"""LocalTransport: run commands on this host, each in its own session, killed at its deadline."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from typing import Any

from plait._validate import check_str, check_str_map
from plait.transport._base import Transport
from plait.transport._errors import CommandTimeout

# After a timeout, the killed command's pipes are drained for at most this long.
_DRAIN_SECONDS = 5.0


class LocalTransport(Transport):
    """Runs commands with ``bash -c`` on this host (Parsl's ``LocalChannel``, reborn).

    Args:
        script_dir: working directory of the commands (default: the current one).
        env: extra environment variables for every command.
    """

    def __init__(self, script_dir: str | None = None, env: dict[str, str] | None = None) -> None:
        check_str("script_dir", script_dir, none=True, owner="LocalTransport")
        check_str_map("env", env, "LocalTransport", none=True)
        self.script_dir = script_dir
        self.env = dict(env or {})

    def run(
        self, cmd: str, timeout: float | None = None, env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> tuple[int, str, str]:
        """Run ``cmd`` and return ``(exit_code, stdout, stderr)``; see :meth:`Transport.run`."""
        full_env = {**os.environ, **self.env, **(env or {})}
        # A new session: on timeout the whole group the command started is killed with it.
        proc = subprocess.Popen(
            ["bash", "-c", cmd],
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, errors="replace", env=full_env,
            cwd=self.script_dir, start_new_session=True)
        try:
            out, err = proc.communicate(
                None if stdin is None else stdin.decode(errors="replace"), timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                # a grandchild that left the group may still hold the pipes: do not wait on it
                proc.communicate(timeout=_DRAIN_SECONDS)
            proc.kill()
            proc.wait()
            raise CommandTimeout(cmd, timeout or 0.0, self.hostname) from None
        return proc.returncode, out, err

    def push_file(self, source: str, dest_dir: str) -> str:
        """Copy ``source`` into ``dest_dir`` (nothing to do if it is already there)."""
        os.makedirs(dest_dir, exist_ok=True)
        dest = os.path.join(dest_dir, os.path.basename(source))
        if os.path.abspath(source) != os.path.abspath(dest):
            shutil.copyfile(source, dest)
        return dest

    def describe(self) -> dict[str, Any]:
        return {"kind": "local", "script_dir": self.script_dir, "env": self.env}

    def __repr__(self) -> str:
        return f"LocalTransport(script_dir={self.script_dir!r})"
