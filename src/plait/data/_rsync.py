"""RSyncStaging: files on machines reached over SSH, moved with rsync (Parsl's provider).

URLs: ``rsync://[user@]host[:port]/abs/path`` and ``[user@]host:path`` (always over SSH in
plait: rsync's own daemon protocol is not used), and, as in Parsl, plain ``file`` paths on
the ``hostname`` the provider was made with.

Routes. ``direct=True`` (the default): the workers reach the file's host themselves, so
files move point-to-point between that host and the worker (or the worker's site).
``direct=False``: they do not, and every file goes through the submitting machine — a
staging task there pulls it into ``relay_dir``, then the worker pulls it from ``relay``
(the submitting machine as the workers reach it); outputs go the same way back. Each
choice is logged at INFO with the file and the executor. Relay copies are removed
once no task needs them (an output's once it is pushed on, an input's once the tasks that
read it are done).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar

from plait._errors import ConfigurationError
from plait._validate import check_bool, check_str, check_str_list
from plait.data._atomic import make_parent
from plait.data._files import File
from plait.data._retries import Permanent, Transient, with_retries
from plait.data._staging import DataManagerAPI
from plait.data._transfer import INTERNAL_EXECUTOR, TransferStaging, Where

if TYPE_CHECKING:
    from plait.data._futures import DataFuture

log = logging.getLogger(__name__)

# rsync exit codes worth another try: socket/stream/IO-timeout errors, vanished files,
# daemon/ssh connection failures (255 is ssh's own)
RETRYABLE = frozenset({5, 10, 12, 24, 30, 35, 255})


class RSyncStaging(TransferStaging):
    """Stage files over SSH with rsync, in the task (on the worker) by default.

    Args:
        hostname: Parsl's argument: also stage plain ``file`` paths, from and to this host
            (``[user@]host``); None: only rsync URLs.
        ssh_options: extra ``ssh`` arguments (``["-i", key, "-o", "…"]``); BatchMode and
            a connect timeout are always on, so a missing key fails instead of prompting.
        direct: whether the workers reach the files' hosts; False sends every file
            through the submitting machine (see the module docstring).
        relay: with ``direct=False``, ``[user@]host[:port]`` of the submitting machine as
            the workers reach it.
        relay_dir: where relayed files wait on the submitting machine (default: its
            staging cache directory).
        where: ``"worker"`` (default) or ``"pilot"``/``"submitter"`` for a staging task.
        **options: as for TransferStaging (rsync's own delta transfer makes the cache
            unnecessary: it is off unless asked for).
    """

    schemes: ClassVar[tuple[str, ...]] = ("rsync",)
    cacheable: ClassVar[bool] = True

    def __init__(self, hostname: str | None = None, *, ssh_options: Sequence[str] = (),
                 direct: bool = True, relay: str | None = None,
                 relay_dir: str | None = None, where: Where = "worker",
                 **options: Any) -> None:
        options.setdefault("cache", False)
        super().__init__(where, **options)
        owner = "RSyncStaging"
        check_str("hostname", hostname, none=True, owner=owner)
        check_str_list("ssh_options", ssh_options, owner=owner)
        check_bool("direct", direct, owner)
        check_str("relay", relay, none=True, owner=owner)
        check_str("relay_dir", relay_dir, none=True, owner=owner)
        if not direct and not relay:
            raise ConfigurationError("relay", relay, "[user@]host[:port] of the submitting "
                                     "machine as the workers reach it, when direct=False")
        self.hostname, self.ssh_options = hostname, list(ssh_options)
        self.direct, self.relay, self.relay_dir = direct, relay, relay_dir
        self._relayed: dict[int, str] = {}  # id(file copy) -> relay path, stage_in to replace
        self._relay_users: dict[str, int] = {}  # relay path of an input -> tasks needing it
        self._relayed_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_relayed_lock")
        state["_relayed"], state["_relay_users"] = {}, {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._relayed_lock = threading.Lock()

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "rsync" or (self.hostname is not None and file.scheme == "file")

    can_stage_out = can_stage_in

    # -- routes ---------------------------------------------------------------------------------
    def stage_in(self, dm: DataManagerAPI, executor: str, file: File,
                 parent_fut: Future[Any] | None) -> DataFuture | None:
        if self.direct:
            return super().stage_in(dm, executor, file, parent_fut)
        relay_path = self._relay_path(file)
        log.info("staging in %s for executor %s: through the submitting machine (%s)",
                 file.url, executor, relay_path)
        with self._relayed_lock:
            self._relayed[id(file)] = relay_path
            if dm.when_done(lambda: self._release(relay_path)):
                self._relay_users[relay_path] = self._relay_users.get(relay_path, 0) + 1
        file.local_path = self.local_path_for(dm, executor, file)
        hop = dm.dfk.submit(relay_in_task, (self, file, relay_path), {
            "parent_fut": parent_fut, "outputs": [file], "_parsl_staging_inhibit": "in"},
            func_name="stage_in_rsync_relay", executors=[INTERNAL_EXECUTOR])
        outputs: list[DataFuture] = hop.outputs
        return outputs[0]

    def replace_task(self, dm: DataManagerAPI, executor: str, file: File,
                     func: Callable[..., Any]) -> Callable[..., Any] | None:
        with self._relayed_lock:
            relay_path = self._relayed.pop(id(file), None)
        if relay_path is None:
            return super().replace_task(dm, executor, file, func)
        dm.plan_in_task(_RelayLeg(self, relay_path), file, "in")
        return None

    def stage_out(self, dm: DataManagerAPI, executor: str, file: File,
                  app_fu: Future[Any]) -> Future[Any] | None:
        if self.direct:
            return super().stage_out(dm, executor, file, app_fu)
        relay_path = self._relay_path(file)
        log.info("staging out %s for executor %s: through the submitting machine (%s)",
                 file.url, executor, relay_path)
        file.local_path = self.local_path_for(dm, executor, file)
        dm.plan_in_task(_RelayLeg(self, relay_path), file, "out")
        return dm.dfk.submit(relay_out_task, (self, file, relay_path, app_fu), {
            "inputs": [file], "_parsl_staging_inhibit": "out"},
            func_name="stage_out_rsync_relay", executors=[INTERNAL_EXECUTOR])

    def replace_task_stage_out(self, dm: DataManagerAPI, executor: str, file: File,
                               func: Callable[..., Any]) -> Callable[..., Any] | None:
        if not self.direct:
            return None  # stage_out put the worker's leg in the plan
        return super().replace_task_stage_out(dm, executor, file, func)

    def _release(self, relay_path: str) -> None:
        """A task that needed the relay copy of an input is done: remove the copy once no
        task needs it any more."""
        with self._relayed_lock:
            users = self._relay_users.pop(relay_path, 1) - 1
            if users:
                self._relay_users[relay_path] = users
                return
            _remove_relay_copy(relay_path)

    def route(self, file: File, direction: str) -> str:
        host = _host_of(self._endpoint(file)[0])
        return f"point-to-point {'from' if direction == 'in' else 'to'} {host} over SSH"

    def _relay_path(self, file: File) -> str:
        from plait.data._cache import default_dir

        root = os.path.expanduser(self.relay_dir or os.path.join(default_dir(), "relay"))
        key = hashlib.sha256(file.url.encode()).hexdigest()[:16]
        return os.path.join(root, key, file.filename)

    # -- transfers ------------------------------------------------------------------------------
    def fetch(self, file: File, part: str, state: dict[str, Any]) -> dict[str, Any]:
        target, port = self._endpoint(file)
        make_parent(part)
        self._rsync(port, target, part)
        # the validator costs another SSH connection: only for the cache
        return {"listing": self._listing(target, port)} if state.get("cached") else {}

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        return bool(meta.get("listing")) and self._listing(*self._endpoint(file)) == \
            meta["listing"]

    def push(self, src: str, file: File) -> None:
        target, port = self._endpoint(file)
        self._rsync(port, "--mkpath", src, target)

    def _listing(self, target: str, port: str | None) -> str:
        """``rsync --list-only``'s line for the file, less its name: size and mtime."""
        return " ".join(self._rsync(port, "--list-only", target).split()[:4])

    def _endpoint(self, file: File) -> tuple[str, str | None]:
        """``([user@]host:path, port)`` for rsync (the port goes to ssh)."""
        if file.scheme == "file":
            return f"{self.hostname}:{os.path.abspath(file.path)}", None
        if not file.url.startswith("rsync://"):  # user@host:path
            return f"{file.netloc}:{file.path}", None
        user, at, hostport = file.netloc.rpartition("@")
        host, _, port = hostport.partition(":")
        return f"{user}{at}{host}:{file.path}", port or None

    def _rsync(self, port: str | None, *args: str) -> str:
        ssh = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(self.timeout)}",
               *(["-p", port] if port else []), *self.ssh_options]
        # a cut transfer is kept for the next try in a hidden directory beside the target,
        # never under the target's own name (where --partial would leave it)
        argv = ["rsync", "--partial-dir=.rsync-partial", "--times",
                f"--timeout={int(self.timeout)}", "-e",
                " ".join(shlex.quote(a) for a in ssh), *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True,
                                  timeout=self.timeout * 10)
        except FileNotFoundError:
            raise Permanent("rsync is not installed where the transfer runs") from None
        except subprocess.TimeoutExpired:
            raise Transient(f"rsync did not finish within {self.timeout * 10:.0f} s") from None
        if done.returncode == 0:
            return done.stdout
        tail = " | ".join(done.stderr.strip().splitlines()[-3:]) or "no message"
        cause = f"rsync exited with {done.returncode}: {tail}"
        if done.returncode in RETRYABLE:
            raise Transient(cause)
        raise Permanent(cause)


class _RelayLeg(RSyncStaging):
    """The worker's leg of a relayed transfer: between the worker and the relay copy."""

    def __init__(self, base: RSyncStaging, relay_path: str) -> None:
        self.__setstate__(base.__getstate__())
        self.relay_path = relay_path

    def _endpoint(self, file: File) -> tuple[str, str | None]:
        assert self.relay is not None
        user_host, _, port = self.relay.partition(":")
        return f"{user_host}:{self.relay_path}", port or None


def relay_in_task(provider: RSyncStaging, file: File, relay_path: str,
                  parent_fut: object = None, outputs: object = (),
                  _parsl_staging_inhibit: object = True) -> None:
    """On the submitting machine: pull ``file`` from its host into ``relay_path``."""
    from plait.data._atomic import write_whole

    write_whole(relay_path, lambda part: provider._fetch(file, part, cached=False))


def relay_out_task(provider: RSyncStaging, file: File, relay_path: str, app_result: object,
                   inputs: object = (), _parsl_staging_inhibit: object = True) -> None:
    """On the submitting machine: push the relayed output on to its host."""
    with_retries(file.url, "out", relay_path, provider.attempts, provider.backoff,
                 lambda n: provider.push(relay_path, file))
    _remove_relay_copy(relay_path)


def _remove_relay_copy(relay_path: str) -> None:
    """Remove a relay copy and its per-URL directory (kept if in use again)."""
    for path, remove in ((relay_path, os.unlink), (os.path.dirname(relay_path), os.rmdir)):
        try:
            remove(path)
        except OSError:  # already gone, or the directory is in use again
            pass


def _host_of(remote: str) -> str:
    return remote.partition(":")[0]
