"""SSHTransport: run a provider's commands on a login node through the OpenSSH client.

    provider ─run(cmd)─▶ ssh -S <control socket> host bash -c 'cmd' ─▶ sshd ─▶ sbatch/squeue/…
                          └── one master connection (ssh -fN -M), opened on first use,
                              reused by every command, closed by close()

OpenSSH rather than a Python SSH library: it reads the user's ~/.ssh/config (ProxyJump,
Kerberos/GSSAPI, agents), and its shared master connection is how sites with two-factor
login are used from scripts: log in once by hand with the same ``control_path`` (see the
class docstring) and every command reuses that connection.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
import threading
from typing import Any, Literal

from plait._errors import ConfigurationError
from plait._validate import check_int, check_number, check_str, check_str_map
from plait.transport._base import Transport
from plait.transport._errors import CommandTimeout, TransportFailed

HostKeyPolicy = Literal["strict", "accept-new"]
_SSH_FAILED = 255  # ssh's own exit status when the connection (not the command) failed


def _default_control_dir() -> str:
    # Short: a unix socket path must stay under ~100 bytes.
    path = os.path.join(tempfile.gettempdir(), f"plait-ssh-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


class SSHTransport(Transport):
    """Runs commands on ``hostname`` over SSH with key-based login (no passwords).

    Args:
        hostname: the login node (or a ``Host`` alias of ~/.ssh/config).
        username: remote user (default: from ~/.ssh/config, else the local user).
        port: sshd's port (default: from ~/.ssh/config, else 22).
        key_filename: private key to log in with (default: the agent and ~/.ssh keys).
        known_hosts: the known_hosts file holding the host's key (default: ~/.ssh's).
        host_key_policy: ``"strict"`` (the default): the host's key must already be in
            known_hosts; ``"accept-new"``: a host seen for the first time is trusted and
            recorded, a changed key is still refused. There is no "accept anything".
        script_dir: remote directory that submit scripts are copied to (default: the same
            path as on this host, for a shared file system).
        envs: environment variables set for every remote command.
        control_path: the master connection's socket. For two-factor login, open it yourself
            once (``ssh -M -S <control_path> -fN host``, answering the prompts) and pass the
            same path: plait then never needs to authenticate.
        connect_timeout: seconds to wait for the connection to open.
        ssh_options: extra ``-o`` options, e.g. ``{"ProxyJump": "gateway"}``.
    """

    is_remote = True

    def __init__(
        self, hostname: str, username: str | None = None, port: int | None = None,
        key_filename: str | None = None, known_hosts: str | None = None,
        host_key_policy: HostKeyPolicy = "strict", script_dir: str | None = None,
        envs: dict[str, str] | None = None, control_path: str | None = None,
        connect_timeout: float = 10.0, ssh_options: dict[str, str] | None = None,
    ) -> None:
        if host_key_policy not in ("strict", "accept-new"):
            raise ConfigurationError("host_key_policy", host_key_policy,
                                     '"strict" or "accept-new"')
        if not hostname or not isinstance(hostname, str):
            raise ConfigurationError("hostname", hostname, "a host name or ~/.ssh/config alias")
        owner = "SSHTransport"
        for field, value in (("username", username), ("key_filename", key_filename),
                             ("known_hosts", known_hosts), ("script_dir", script_dir),
                             ("control_path", control_path)):
            check_str(field, value, none=True, owner=owner)
        check_int("port", port, low=1, high=65535, none=True, owner=owner)
        check_number("connect_timeout", connect_timeout, low=0, strict=True, owner=owner,
                     kind="a number of seconds")
        check_str_map("envs", envs, owner, none=True)
        check_str_map("ssh_options", ssh_options, owner, none=True)
        self.hostname, self.username, self.port = hostname, username, port
        self.key_filename, self.known_hosts = key_filename, known_hosts
        self.host_key_policy: HostKeyPolicy = host_key_policy
        self.script_dir = script_dir
        self.envs = dict(envs or {})
        self.connect_timeout = connect_timeout
        self.ssh_options = dict(ssh_options or {})
        self._given_control_path = control_path
        self.control_path = control_path or os.path.join(_default_control_dir(), "%C")
        self._master_lock = threading.Lock()
        self._master_open = False
        self._opened_master = False  # by this transport (close() ends only such a one)

    # -- the ssh command line ------------------------------------------------------------------
    def _options(self) -> list[str]:
        opts = {
            "BatchMode": "yes",  # never prompt: a prompt would hang a provider command
            "StrictHostKeyChecking": "yes" if self.host_key_policy == "strict" else "accept-new",
            "ConnectTimeout": str(max(1, round(self.connect_timeout))),
            "ControlPath": self.control_path,
            "ServerAliveInterval": "15",
            "ServerAliveCountMax": "3",
            **self.ssh_options,
        }
        if self.known_hosts:
            opts["UserKnownHostsFile"] = self.known_hosts
        if self.key_filename:
            opts["IdentityFile"] = self.key_filename
            opts["IdentitiesOnly"] = "yes"
        args = []
        for key, value in opts.items():
            args += ["-o", f"{key}={value}"]
        if self.port:
            args += ["-p", str(self.port)]
        if self.username:
            args += ["-l", self.username]
        return args

    def _ssh(self, *extra: str) -> list[str]:
        return ["ssh", *self._options(), *extra, self.hostname]

    def _where(self) -> str:
        user = f"{self.username}@" if self.username else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.hostname}{port}"

    def _ensure_master(self) -> None:
        if self._master_open:  # a dead master shows as a failed command, which reopens it
            return
        with self._master_lock:
            if self._master_open:
                return
            if self._master_alive():  # a connection opened by hand (two-factor) or earlier
                self._master_open = True
                return
            # -f: ssh returns once logged in and leaves the master in the background, with
            # its output on a file (not our pipes, which it would otherwise hold open).
            with tempfile.TemporaryFile() as err:
                try:
                    proc = subprocess.run(
                        self._ssh("-M", "-f", "-N", "-o", "ControlPersist=300"),
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                        timeout=self.connect_timeout + 5)
                    code = proc.returncode
                except subprocess.TimeoutExpired:
                    code = -1
                err.seek(0)
                message = err.read().decode(errors="replace").strip()
            if code != 0:
                raise TransportFailed(self._where(), message or f"ssh exited with {code}")
            self._master_open = self._opened_master = True

    def _master_alive(self) -> bool:
        proc = subprocess.run(self._ssh("-O", "check"), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=10)
        return proc.returncode == 0

    def _remote(self, cmd: str, env: dict[str, str] | None, timeout: float | None) -> str:
        exports = "".join(f"export {k}={shlex.quote(v)}; "
                          for k, v in {**self.envs, **(env or {})}.items())
        inner = shlex.quote(exports + cmd)
        if timeout is not None:
            # The deadline is kept on the remote side too: killing the local ssh does not
            # end a command running over a shared connection.
            seconds = max(1, int(timeout + 1))
            inner = shlex.quote(f"command -v timeout >/dev/null 2>&1 && exec timeout -k 2 "
                                f"{seconds} bash -c {inner}; exec bash -c {inner}")
        return f"bash -c {inner}"

    # -- Transport -----------------------------------------------------------------------------
    def run(
        self, cmd: str, timeout: float | None = None, env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> tuple[int, str, str]:
        """Run ``cmd`` on the remote host; see :meth:`Transport.run`.

        Raises:
            TransportFailed: ssh could not connect or log in (its message says why).
            CommandTimeout: the command ran past ``timeout``; the local ssh was killed, which
                closes the remote session.
        """
        try:
            return self._run_once(cmd, timeout, env, stdin)
        except TransportFailed:
            if not self._reopened_after_failure():
                raise
            return self._run_once(cmd, timeout, env, stdin)

    def _reopened_after_failure(self) -> bool:
        """After a failed command: True if the master had died and a new one is open."""
        with self._master_lock:
            was_open, self._master_open = self._master_open, False
        if not was_open:
            return False
        self._ensure_master()
        return True

    def _run_once(self, cmd: str, timeout: float | None, env: dict[str, str] | None,
                  stdin: bytes | None) -> tuple[int, str, str]:
        self._ensure_master()
        argv = [*self._ssh("-T"), self._remote(cmd, env, timeout)]
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            # the master connection may hold the pipes until the remote command ends
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
            raise CommandTimeout(cmd, timeout or 0.0, self._where()) from None
        text_err = err.decode(errors="replace")
        if proc.returncode == _SSH_FAILED and self._connection_failed(text_err):
            raise TransportFailed(self._where(), text_err.strip())
        return proc.returncode, out.decode(errors="replace"), text_err

    @staticmethod
    def _connection_failed(stderr: str) -> bool:
        markers = ("ssh:", "Permission denied", "Host key verification failed",
                   "Connection closed", "Connection refused", "mux_client", "Control socket")
        return any(m in stderr for m in markers)

    def push_file(self, source: str, dest_dir: str) -> str:
        """Copy ``source`` into the remote ``dest_dir`` (over the same connection)."""
        dest = os.path.join(dest_dir, os.path.basename(source))
        with open(source, "rb") as fh:
            data = fh.read()
        mode = oct(os.stat(source).st_mode & 0o777)[2:]
        code, _, err = self.run(
            f"mkdir -p {shlex.quote(dest_dir)} && cat > {shlex.quote(dest)} && "
            f"chmod {mode} {shlex.quote(dest)}", timeout=60, stdin=data)
        if code != 0:
            raise TransportFailed(self._where(), f"copying {source} to {dest} failed: {err}")
        return dest

    def describe(self) -> dict[str, Any]:
        return {"kind": "ssh", "hostname": self.hostname, "username": self.username,
                "port": self.port, "key_filename": self.key_filename,
                "known_hosts": self.known_hosts, "host_key_policy": self.host_key_policy,
                "script_dir": self.script_dir, "envs": self.envs,
                "connect_timeout": self.connect_timeout, "ssh_options": self.ssh_options,
                "control_path": self._given_control_path}

    def close(self) -> None:
        """Close the master connection if this transport opened it (not one opened by hand)."""
        with self._master_lock:
            if self._opened_master:
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    subprocess.run(self._ssh("-O", "exit"), stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=10)
            self._master_open = self._opened_master = False

    def __repr__(self) -> str:
        return f"SSHTransport({self._where()!r})"
