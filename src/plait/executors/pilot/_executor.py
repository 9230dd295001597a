"""HighThroughputExecutor: Parsl's pilot-job executor, on ZeroMQ (see the package's modules).

    submit ─▶ [function cache, pack args] ─▶ InterchangeClient ─▶ interchange ─▶ managers
    futures ◀─ result thread ◀─ results / lost tasks / manager events ◀─ interchange
    block thread: provider status every status_polling_interval ─▶ BlockFailed, bad state

Differences from Parsl (documented on the class): heartbeat defaults are short (2 s period,
8 s threshold) so a lost manager is noticed within seconds; prefetch is automatic by default;
the resource specification accepts ``cores``, ``memory`` (MB) and ``priority``. As in
Parsl, ``encrypted=True`` by default (CurveZMQ on every network socket; the executor reaches
its interchange over a socketpair the interchange inherits, which nothing else can reach).
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any

from plait._lightfuture import LightFuture
from plait._sampling import encode_spec
from plait.executors._blocks import ErrorHandler, TaskCount
from plait.executors._errors import (
    BadStateException,
    InvalidResourceSpecification,
    VersionMismatch,
    WorkerLost,
)
from plait.executors.pilot import _protocol as P
from plait.executors.pilot._client import InterchangeClient
from plait.executors.pilot._pilot_blocks import PilotBlocks
from plait.executors.pilot._settings import (
    RESOURCE_KEYS,
    blocks_are_local,
    default_launch_cmd,
    is_loopback,
    local_addresses,
    validate,
    worker_bind,
)
from plait.serialize._funcs import FunctionCache
from plait.serialize._pack import pack_call, pack_value, unpack_value
from plait.serialize._shared import Ledger, SharedArgs, frames_size

log = logging.getLogger(__name__)


def _pack_shared(value: object) -> list[Any]:
    return pack_value(value, "argument")


class HighThroughputExecutor(PilotBlocks):
    """Run tasks on worker pools in blocks obtained from a provider (Parsl's HTEX).

    Parameters keep Parsl's names and meanings. Differences:

    * ``heartbeat_period`` defaults to 2 s and ``heartbeat_threshold`` to 8 s, so a silent
      manager is declared lost within seconds (a manager whose process dies is noticed at
      once, from its closed connection).
    * ``prefetch_capacity=None`` (the default) is automatic: extra tasks go to a manager
      only once every connected worker is busy, 8 per worker while tasks return within
      milliseconds, 1 per worker once they take tens of milliseconds. An int keeps Parsl's
      meaning (a fixed number of extra tasks per manager).
    * ``launch_cmd`` format fields include ``{python}``: this interpreter
      (``python -m plait.executors.pilot._manager``) for LocalProvider blocks, else the
      ``plait-worker-pool`` script from PATH.
    * ``parsl_resource_specification`` accepts ``cores``, ``memory`` (MB) and ``priority``
      (lower runs first); other keys raise InvalidResourceSpecification at submit. Priority
      orders the interchange's queue; tasks already prefetched to a manager run in the order
      they came, so ``prefetch_capacity=0`` makes the order strict.

    * ``interchange_port_range`` is accepted (and checked) but not used: the executor and
      its interchange talk over a socketpair, with no port to bind or to protect.

    plait additions: ``start_timeout`` (seconds to wait for the interchange to start);
    ``sandbox=True`` runs each task in a fresh directory under ``working_dir`` (its cwd,
    where in-task staging puts its files), removed on success and kept, and named in the
    error, on failure. ``shared_cache_bytes`` (default 1 GiB; 0 turns it off): a large buffer
    argument (bytes, bytearray, memoryview, numpy array: 1 MiB or more) passed to several
    tasks travels once to the interchange, once to each manager and once to each worker, and
    each of them keeps up to this many bytes of such arguments (least recently used dropped
    first, re-sent when needed again). Every task still gets a fresh copy of its own.
    """

    def __init__(
        self, label: str = "HighThroughputExecutor", provider: Any = None,
        launch_cmd: str | None = None, interchange_launch_cmd: Sequence[str] | None = None,
        address: str | None = None, loopback_address: str = "127.0.0.1",
        worker_port: int | None = None, worker_port_range: tuple[int, int] = (54000, 55000),
        interchange_port_range: tuple[int, int] = (55000, 56000),
        storage_access: list[Any] | None = None, working_dir: str | None = None,
        worker_debug: bool = False, cores_per_worker: float = 1.0,
        mem_per_worker: float | None = None, max_workers_per_node: int | float | None = None,
        cpu_affinity: str = "none", available_accelerators: int | Sequence[str] = (),
        prefetch_capacity: int | None = None, heartbeat_threshold: float = 8.0,
        heartbeat_period: float = 2.0, drain_period: float | None = None,
        poll_period: int = 10, address_probe_timeout: float | None = None,
        worker_logdir_root: str | None = None, manager_selector: Any = None,
        block_error_handler: bool | ErrorHandler = True, encrypted: bool = True,
        remote_monitoring_radio: Any = None, start_timeout: float = 60.0,
        sandbox: bool = False, shared_cache_bytes: int = 1 << 30,
    ) -> None:
        if provider is None:
            from plait.providers import LocalProvider

            provider = LocalProvider()
        super().__init__(provider, block_error_handler)
        self.label = label
        self.launch_cmd, self.address, self.loopback_address = launch_cmd, address, \
            loopback_address
        self.interchange_launch_cmd: Any = interchange_launch_cmd
        self.worker_port, self.worker_port_range = worker_port, worker_port_range
        self.interchange_port_range = interchange_port_range
        self.storage_access, self.working_dir = storage_access, working_dir
        self.worker_debug, self.cores_per_worker = worker_debug, cores_per_worker
        self.mem_per_worker, self.max_workers_per_node = mem_per_worker, max_workers_per_node
        self.cpu_affinity = cpu_affinity
        self.available_accelerators: Any = available_accelerators
        self.prefetch_capacity = prefetch_capacity
        self.heartbeat_threshold, self.heartbeat_period = heartbeat_threshold, heartbeat_period
        self.drain_period, self.poll_period = drain_period, poll_period
        self.address_probe_timeout = address_probe_timeout
        self.worker_logdir_root, self.manager_selector = worker_logdir_root, manager_selector
        self.encrypted, self.remote_monitoring_radio = encrypted, remote_monitoring_radio
        self.start_timeout = start_timeout
        self.sandbox = sandbox
        self.shared_cache_bytes = shared_cache_bytes
        self.cert_dir: str | None = None
        validate(self)  # then the normalised forms
        self.interchange_launch_cmd = (list(interchange_launch_cmd)
                                       if interchange_launch_cmd else None)
        self.worker_port_range = (worker_port_range[0], worker_port_range[1])
        self.interchange_port_range = (interchange_port_range[0], interchange_port_range[1])
        if isinstance(available_accelerators, int):
            available_accelerators = [str(i) for i in range(available_accelerators)]
        self.available_accelerators = list(available_accelerators)
        self._tasks: dict[int, LightFuture[Any]] = {}
        self._ids = itertools.count(1)
        self._fcache = FunctionCache()
        self._sent: set[bytes] = set()
        self._sharer = SharedArgs()
        self._ledger = Ledger(self.shared_cache_bytes)  # what the interchange holds
        self._refs: dict[int, tuple[bytes, ...]] = {}  # task -> shared arguments it names
        self._client: InterchangeClient | None = None
        self._connected_blocks: set[str] = set()
        self._managers: dict[str, str] = {}  # manager id -> block id
        self._nodes: dict[str, tuple[Any, ...]] = {}  # manager id -> node facts (monitoring)
        self._failed_blocks: set[str] = set()
        self._draining_blocks: set[str] = set()
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._to_cancel: list[str] = []
        self._lost_manager_block: dict[str, str] = {}  # lost manager id -> its block
        self._unexplained: dict[str, tuple[float, list[Any]]] = {}  # see _task_lost
        self._block_thread: threading.Thread | None = None
        self._manager_ipc: str | None = None  # the interchange's Unix socket (local blocks)
        self._started = self._shut_down = False

    def __repr__(self) -> str:
        return f"HighThroughputExecutor(label={self.label!r})"

    # -- start ---------------------------------------------------------------------------------
    @property
    def logdir(self) -> str:
        """The directory of this executor's interchange, manager and worker logs."""
        root = self.worker_logdir_root or self.run_dir
        return os.path.join(root, self.label)

    def start(self) -> None:
        """Start the interchange and submit ``provider.init_blocks`` blocks."""
        if self._started:
            return
        self._started = True
        if getattr(self.provider, "script_dir", "unset") is None:
            self.provider.script_dir = os.path.join(self.run_dir, "submit_scripts")
        if getattr(self.provider, "script_dir", None):
            os.makedirs(self.provider.script_dir, exist_ok=True)
        if self.run_id and hasattr(self.provider, "run_id"):
            self.provider.run_id = self.run_id  # cloud providers tag resources with it
        ix_logdir = os.path.join(self.run_dir, self.label)
        if self.encrypted:
            from plait.executors.pilot._curve import create_certificates

            self.cert_dir = create_certificates(os.path.join(ix_logdir, "certificates"))
        self._client = InterchangeClient(
            self.label, ix_logdir, self.interchange_launch_cmd, self._on_message, self._on_lost,
            heartbeat_period=self.heartbeat_period, heartbeat_threshold=self.heartbeat_threshold)
        bind = worker_bind(self)
        cfg = {"worker_port": self.worker_port, "worker_port_range": self.worker_port_range,
               "worker_bind": bind, "cert_dir": self.cert_dir,
               "heartbeat_period": self.heartbeat_period,
               "heartbeat_threshold": self.heartbeat_threshold, "debug": self.worker_debug,
               "versions": P.local_versions(),
               "by_block_id": "BlockId" in type(self.manager_selector).__name__,
               "shared_cache_bytes": self.shared_cache_bytes,
               "manager_ipc": self._local_socket()}
        try:
            info = self._client.start(cfg, self.start_timeout)
        except Exception as exc:
            tail = self._client.stderr_tail()
            self._client.stop(timeout=2)
            raise BadStateException(self, f"the interchange failed to start ({exc}); see "
                                    f"{self._client.log_path}\n{tail}") from exc
        self.worker_port = info["worker_port"]
        if not self.encrypted and not is_loopback(bind):
            log.warning("executor %s: the interchange listens on port %d of every interface "
                        "without encryption (encrypted=False): any host able to reach that "
                        "port can run code in this process; keep encrypted=True (the default) "
                        "or firewall the port", self.label, self.worker_port)
        self._block_thread = threading.Thread(target=self._watch_blocks, daemon=True,
                                              name=f"plait-htex-{self.label}-blocks")
        self._block_thread.start()
        init = int(getattr(self.provider, "init_blocks", 1) or 0)
        if init:
            self.scale_out(init)

    def _local_socket(self) -> str | None:
        """Where managers on this host reach the interchange: a Unix socket in a directory
        only this user can enter. None (managers use the TCP port) for blocks elsewhere, for
        an ``address`` other than loopback (the user's choice of route stands), on a system
        that cannot tell a peer's user (no SO_PEERCRED), or when the temporary directory's
        path is too long for a socket's name."""
        if not blocks_are_local(self.provider) or not (self.address is None
                                                       or is_loopback(self.address)):
            return None
        if not hasattr(socket, "SO_PEERCRED"):
            return None
        path = os.path.join(tempfile.mkdtemp(prefix="plait-"), "managers")  # mode 0700
        if len(path.encode()) > 100:  # sun_path holds 108 bytes
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
            return None
        self._manager_ipc = path
        return path

    def _get_launch_command(self, block_id: str) -> str:
        local = blocks_are_local(self.provider)
        template = self.launch_cmd or default_launch_cmd()
        probe = self.address_probe_timeout
        return template.format(
            python=f"{sys.executable} -m plait.executors.pilot._manager" if local
            else "plait-worker-pool",
            debug="--debug" if self.worker_debug else "",
            max_workers_per_node=(self.max_workers_per_node
                                  if self.max_workers_per_node is not None else "inf"),
            addresses=self.address or (self.loopback_address if local else local_addresses()),
            prefetch_capacity="auto" if self.prefetch_capacity is None else self.prefetch_capacity,
            cores_per_worker=self.cores_per_worker, mem_per_worker=self.mem_per_worker,
            poll_period=self.poll_period, worker_port=self.worker_port, cert_dir=self.cert_dir,
            logdir=self.logdir, block_id=block_id, heartbeat_period=self.heartbeat_period,
            heartbeat_threshold=self.heartbeat_threshold,
            address_probe_timeout_string=f"--address_probe_timeout={probe}" if probe else "",
            # a block under a walltime takes no new task near its end (provider.drain_after)
            drain_period=(self.drain_period if self.drain_period is not None
                          else getattr(self.provider, "drain_after", None)),
            cpu_affinity=self.cpu_affinity,
            accelerators=" ".join(self.available_accelerators),
            monitoring=(f"--monitoring={encode_spec(self.monitoring_spec)}"
                        if self.monitoring_spec else ""),
            ipc=f"--ipc={self._manager_ipc}" if self._manager_ipc else "")

    # -- submit --------------------------------------------------------------------------------
    def submit(self, func: Callable[..., Any], resource_specification: dict[str, Any],
               *args: Any, **kwargs: Any) -> LightFuture[Any]:
        """Send ``func(*args, **kwargs)`` to a worker; returns its future.

        Raises:
            InvalidResourceSpecification: a key other than cores, memory, priority.
            SerializationError: the function or an argument (named) cannot be pickled.
            BadStateException / BlockFailed / InterchangeLost: the executor cannot run tasks.
        """
        spec = resource_specification
        if spec and not spec.keys() <= RESOURCE_KEYS:
            self.validate_resource_spec(spec)
        client = self._client
        if client is None or self._shut_down:
            raise BadStateException(self, "it is not running: call start() first (or load "
                                    "a config); it may have been shut down")
        digest, body = self._fcache.get(func)
        shared: list[tuple[bytes, list[Any]]] = []
        if (args or kwargs) and self.shared_cache_bytes > 0:
            args, kwargs, shared = self._sharer.split(args, kwargs, _pack_shared)
        frames = pack_call(args, kwargs)
        fut: LightFuture[Any] = LightFuture()
        prio, cores, mem = ((spec.get("priority"), spec.get("cores"), spec.get("memory"))
                            if spec else (None, None, None))
        with client.lock:
            # Under the lock: once bad state is set, _fail_all (which takes this lock) fails
            # every future registered before, and none can be registered after.
            if self._bad_state.is_set():
                self._check_bad_state()
            if client._closed:
                raise BadStateException(self, "it is shutting down")
            tid = next(self._ids)
            first = not self._tasks
            self._tasks[tid] = fut
            before = []
            if digest not in self._sent:
                self._sent.add(digest)
                before.append([P.FUNC, digest, body])
            refs: tuple[bytes, ...] = ()
            if shared:
                refs = self._share(tid, shared, before)
            client.post_task((tid, digest, prio, cores, mem, len(frames), refs), frames,
                             before, first)
        if first:
            self._wake()
        return fut

    def _share(self, tid: int, shared: list[tuple[bytes, list[Any]]],
               before: list[list[Any]]) -> tuple[bytes, ...]:
        """Pin a task's shared arguments; queue what the interchange must drop or receive."""
        for ref, frames in shared:
            send, dropped = self._ledger.need(ref, frames_size(frames))
            if dropped:
                before.append([P.FORGET, *dropped])
            if send:
                before.append([P.SHARED, ref, *frames])
        refs = tuple(ref for ref, _ in shared)
        self._refs[tid] = refs
        return refs

    def _unpin(self, tid: int) -> None:
        """A task is done: its shared arguments may be dropped from now on."""
        refs = self._refs.pop(tid, None)
        if refs and self._client is not None:
            with self._client.lock:
                for ref in refs:
                    self._ledger.release(ref)

    def validate_resource_spec(self, resource_specification: dict[str, Any]) -> None:
        """Raise InvalidResourceSpecification for keys other than cores, memory, priority."""
        unknown = set(resource_specification) - RESOURCE_KEYS
        if unknown:
            raise InvalidResourceSpecification(
                sorted(unknown), f"{self.label} accepts only {', '.join(sorted(RESOURCE_KEYS))}")

    @property
    def outstanding(self) -> TaskCount:
        """Tasks submitted and not finished (also callable, as Parsl's ``outstanding()``)."""
        return TaskCount(len(self._tasks))

    # -- messages from the interchange (result thread) -----------------------------------------
    def _on_message(self, kind: bytes, frames: list[memoryview]) -> None:
        if kind == P.RESULTS:
            self._results(frames)
        elif kind == P.LOST:
            for tid, exc in P.loads(frames[1]):
                if tid == -1 and isinstance(exc, VersionMismatch):
                    self.set_bad_state_and_fail_all(exc)
                    continue
                fut = self._tasks.pop(tid, None)
                if self._refs:
                    self._unpin(tid)
                if fut is not None:
                    self._task_lost(fut, exc)
            if not self._tasks:
                self._wake()
        elif kind == P.EVENT:
            self._manager_event(P.loads(frames[1]))
        elif kind == P.MONITOR:
            self.monitoring_samples(P.loads(frames[1]))

    def monitor_resources(self) -> bool:
        """Yes: managers sample their busy workers (see plait._sampling)."""
        return True

    def monitoring_samples(self, records: list[tuple[Any, ...]]) -> None:
        """Samples from managers (by any radio): hand them on with their tasks' futures."""
        sink, tasks = self.monitoring_sink, self._tasks
        if sink is None:
            return
        found = [(fut, rec[1:]) for rec in records if (fut := tasks.get(rec[0])) is not None]
        if found:
            sink(found)

    def _results(self, frames: list[memoryview]) -> None:
        tasks = self._tasks
        pos = 2
        for tid, status, n in P.loads(frames[1]):
            part = frames[pos:pos + n]
            pos += n
            fut = tasks.pop(tid, None)
            if self._refs:
                self._unpin(tid)
            if fut is None:
                continue
            try:
                value = unpack_value(part)
            except Exception as exc:
                fut.set_exception(exc)
                continue
            if status == P.OK:
                fut.set_result(value)
            elif isinstance(value, WorkerLost) and value.exitcode == -signal.SIGTERM:
                self._task_lost(fut, value)  # how schedulers end jobs: ask why
            else:
                fut.set_exception(value)
        if not tasks:
            self._wake()

    def _on_lost(self, exc: BaseException) -> None:
        if not self._shut_down:
            self.set_bad_state_and_fail_all(exc)

    def _fail_all(self, exc: BaseException) -> list[LightFuture[Any]]:
        lock = self._client.lock if self._client is not None else threading.Lock()
        with lock:
            futs, self._tasks = list(self._tasks.values()), {}
        for fut in futs:
            if not fut.done():
                fut.set_exception(exc)
        return futs

    # -- shutdown ------------------------------------------------------------------------------
    def shutdown(self, wait: bool = True) -> None:
        """Stop the interchange, cancel every block, fail what is still outstanding.

        Idempotent and bounded in time (about 10 s with ``wait``, 2 s without); tolerant of
        parts that already died.
        """
        if self._shut_down:
            return
        self._shut_down = True
        self._stop.set()
        self._kick.set()
        client = self._client
        if client is not None:
            client.stop(timeout=5.0 if wait else 1.0)
        self.cancel_all_blocks()
        if self._manager_ipc is not None:
            shutil.rmtree(os.path.dirname(self._manager_ipc), ignore_errors=True)
        if self._block_thread is not None:
            self._block_thread.join(timeout=5)
        self._fail_all(BadStateException(self, "it was shut down before the task finished"))
