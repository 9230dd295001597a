"""Interchange: one process per executor; queues tasks and hands them to managers in batches.

    executor ⇄ channel (inherited socketpair) ⇄ interchange ◀──ROUTER (tcp)──▶ managers
                                                 interchange ◀──Unix socket──▶ local managers
    waits on: the channel (and for room on it while bytes wait), the ROUTER, its monitor
    (disconnects), the Unix socket and each local manager's connection, stdin (lifeline),
    and the next heartbeat deadline (to managers and to the executor, every period)

Managers on the submitting host (LocalProvider blocks) connect to a Unix socket in a private
directory the executor made (``manager_ipc``) instead of the ROUTER: each message wakes only
its reader, with no ZeroMQ I/O thread on either side. Only this user's processes are
accepted (SO_PEERCRED); each message starts with the manager's id, checked against the one
it registered with; its connection closing is its loss, as a ROUTER disconnect is.

Started by the executor as ``python -m plait.executors.pilot._interchange`` with its settings
pickled on stdin and its end of the channel inherited (``executor_fd``). The executor keeps
stdin open; EOF there, or on the channel, means the submitting process is gone and the
interchange exits. Decisions are made by :class:`DispatchCore`; this module only moves
bytes and events. Payload frames are forwarded as received (``copy=False``): never re-pickled.

The managers' port takes whatever reaches it: a peer that is not a registered manager may
only probe and register, and a malformed message is dropped and counted, never fatal.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import struct
import sys
import time
from typing import Any

import zmq
from zmq.utils.monitor import parse_monitor_message

from plait.executors._errors import ManagerLost, VersionMismatch
from plait.executors.pilot import _protocol as P
from plait.executors.pilot._channel import Channel
from plait.executors.pilot._dispatch import DispatchCore, ManagerSlot, QueuedTask
from plait.executors.pilot._sockets import BATCH, drain, new_socket, tcp_url
from plait.serialize._shared import Ledger

log = logging.getLogger("plait.interchange")
# What a manager's registration holds (see _manager.Manager._register).
_REGISTRATION = frozenset({"versions", "hostname", "block_id", "workers", "prefetch_capacity",
                           "cores_per_worker", "mem_per_worker", "cores_total", "mem_total"})
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


class _Link:
    """A local manager's connection to the Unix socket; ``mid`` once it has said who it is."""

    __slots__ = ("chan", "mid")

    def __init__(self, chan: Channel) -> None:
        self.chan, self.mid = chan, b""


class Interchange:
    """The event loop around a :class:`DispatchCore`."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.core = DispatchCore(cfg["heartbeat_threshold"], cfg.get("by_block_id", False))
        self.hb_period: float = cfg["heartbeat_period"]
        self.versions: dict[str, str] = cfg["versions"]
        self.bodies: dict[bytes, Any] = {}
        self.shared: dict[bytes, list[Any]] = {}  # shared arguments, by digest (see _shared)
        self.ledgers: dict[bytes, Ledger] = {}  # what each manager holds of them
        self.fd_of: dict[bytes, int] = {}
        self.mid_of_fd: dict[int, bytes] = {}
        self.blocks_seen: set[str] = set()
        self.ctx = zmq.Context()
        self.auth: Any = None
        self.running = True
        self.refused = 0  # peers and messages refused (warned about once a minute)
        self.refused_warned = -1e9
        self.executor_heard = time.monotonic()
        self.executor_silent = False
        self.poller = zmq.Poller()
        self.listener: socket.socket | None = None  # local managers' Unix socket
        self.links: dict[int, _Link] = {}  # by descriptor
        self.link_of: dict[bytes, _Link] = {}  # by manager id
        self.links_waiting: set[_Link] = set()  # bytes wait for room on these
        self._open_sockets()

    # -- setup -------------------------------------------------------------------------------
    def _open_sockets(self) -> None:
        cfg, ctx = self.cfg, self.ctx
        cert_dir = cfg.get("cert_dir")
        self.exe = Channel(socket.socket(fileno=cfg["executor_fd"]))
        bind = cfg.get("worker_bind", "*")
        self.router = new_socket(ctx, zmq.ROUTER, bind == "*" or ":" in bind)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        if cert_dir:
            from plait.executors.pilot._curve import make_server, start_authenticator

            self.auth = start_authenticator(ctx, cert_dir)
            make_server(self.router, cert_dir)
        self.monitor = self.router.get_monitor_socket(
            zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        if cfg.get("worker_port"):
            self.worker_port = int(cfg["worker_port"])
            self.router.bind(tcp_url(bind, self.worker_port))
        else:
            lo, hi = cfg["worker_port_range"]
            self.worker_port = self.router.bind_to_random_port(
                tcp_url(bind), min_port=lo, max_port=hi, max_tries=200)
        log.info("managers connect to port %d (listening on %s)", self.worker_port, bind)
        path = cfg.get("manager_ipc")
        if path:
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(path)
            os.chmod(path, 0o600)
            self.listener.listen(128)
            self.listener.setblocking(False)
            log.info("local managers connect to %s", path)

    # -- executor side ----------------------------------------------------------------------
    def _to_executor(self, frames: list[Any]) -> None:
        # Written once per loop turn (and after each batch of manager messages): many
        # messages, few system calls. What the socket has no room for waits in the channel.
        self.exe.send(frames, flush=False)

    def _event(self, *event: Any) -> None:
        self._to_executor([P.EVENT, P.dumps(event)])

    def _fail(self, failures: list[tuple[int, BaseException]]) -> None:
        if failures:
            self._to_executor([P.LOST, P.dumps(failures)])

    def _on_executor(self, frames: list[memoryview]) -> None:
        kind = frames[0].tobytes()
        if kind == P.TASKS:
            meta = P.loads(frames[1])
            pos = 2
            arrived = self.core.task_arrived
            for tid, digest, prio, cores, mem, n, refs in meta:
                arrived(QueuedTask(tid, digest, frames[pos:pos + n], prio, cores, mem,
                                   refs=refs))
                pos += n
        elif kind == P.FUNC:
            self.bodies[frames[1].tobytes()] = frames[2]
        elif kind == P.SHARED:
            self.shared[frames[1].tobytes()] = frames[2:]
        elif kind == P.FORGET:
            for ref in frames[1:]:
                self.shared.pop(ref.tobytes(), None)
        elif kind == P.COMMAND:
            req_id, name, args = P.loads(frames[1])
            self._to_executor([P.COMMAND, P.dumps((req_id, self._command(name, args)))])

    def _from_executor(self) -> None:
        # A few messages (of up to 2,000 tasks each) per turn: dispatch, results and
        # heartbeats keep flowing while a burst of a million tasks arrives. (In a method of
        # its own: a loop variable in run() would keep the last message, and a large
        # argument's memory, alive until the next one.)
        for frames in self.exe.recv(8):
            self._on_executor(frames)

    def _command(self, name: str, args: Any) -> Any:
        now = time.monotonic()
        if name == "WORKER_BINDS":
            return self.worker_port
        if name == "MANAGERS":
            return self.core.describe(now)
        if name == "CONNECTED_BLOCKS":
            return sorted(self.blocks_seen)
        if name == "HOLD_MANAGER":
            self.core.hold(args.encode() if isinstance(args, str) else args)
            return True
        if name == "HOLD_BLOCKS":
            held = [m.mid for m in self.core.managers.values() if m.block_id in set(args)]
            for mid in held:
                self.core.hold(mid)
            return [m.decode() for m in held]
        if name == "DROP_PENDING":
            return [t.task_id for t in self.core.drop_pending()]
        if name == "SHUTDOWN":
            self.running = False
            return True
        return None

    # -- manager side -----------------------------------------------------------------------
    def _send(self, mid: bytes, frames: list[Any]) -> None:
        link = self.link_of.get(mid)
        if link is not None:
            if link.chan.send(frames):
                self.links_waiting.add(link)
            return
        try:
            P.send(self.router, [mid, *frames])
        except zmq.ZMQError as exc:  # EHOSTUNREACH: the manager's connection is gone
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            self._lose(mid, "its connection closed")

    def _on_manager(self, frames: list[Any], local: bool = False) -> None:
        try:
            self._manager_message(frames, local)
        except Exception as exc:  # anyone may reach the port: junk must not stop the loop
            self._refuse("a malformed message from %r was dropped (%s: %s)",
                         bytes(frames[0]), type(exc).__name__, exc)

    def _manager_message(self, frames: list[Any], local: bool) -> None:
        mid = bytes(frames[0])
        kind = bytes(frames[1])
        now = time.monotonic()
        if kind == P.RESULTS:
            if mid not in self.core.managers:
                raise ValueError("results from a peer that is not a registered manager")
            done = [tid for tid, _, _ in P.loads(frames[2])]  # checked before forwarding
            # Forwarded first: the executor's futures need not wait for the bookkeeping.
            self._to_executor([P.RESULTS, *frames[2:]])
            for task in self.core.results_arrived(mid, done, now):
                if task.refs:
                    ledger = self.ledgers[mid]
                    for ref in task.refs:
                        ledger.release(ref)
        elif kind == P.HEARTBEAT:
            if not self.core.heard_from(mid, now):
                self._send(mid, [P.EXIT])
            elif len(frames) > 2:  # the manager's latest memory sample of its workers
                self.core.managers[mid].info["worker_rss"] = P.loads(frames[2])
        elif kind == P.PROBE:
            self._send(mid, [P.PROBE])
        elif kind == P.REGISTER:
            self._register(mid, P.loads(frames[2]), None if local else frames[2].get(zmq.SRCFD),
                           now)
        elif kind == P.DRAIN:
            self.core.drain(mid)
        elif kind == P.MONITOR and mid in self.core.managers:
            self._to_executor([P.MONITOR, frames[2]])

    def _register(self, mid: bytes, reg: dict[str, Any], fd: int | None, now: float) -> None:
        if not isinstance(reg, dict) or not reg.keys() >= _REGISTRATION:
            raise ValueError("a registration without a manager's fields")
        who = f"manager {mid.decode(errors='replace')} on {reg.get('hostname')}"
        table = P.version_table(self.versions, reg.get("versions", {}), who)
        if table is not None:
            log.error("refusing %s: versions differ\n%s", who, table)
            self._send(mid, [P.REFUSE, P.dumps(table)])
            self._fail([(-1, VersionMismatch(table))])
            return
        auto = reg["prefetch_capacity"] is None
        mgr = ManagerSlot(mid, str(reg["block_id"]), reg["hostname"], reg["workers"],
                          reg["workers"] + (reg["prefetch_capacity"] or 0),
                          reg["cores_per_worker"], reg["mem_per_worker"], reg["cores_total"],
                          reg["mem_total"], info=reg, auto_prefetch=auto)
        self.core.manager_registered(mgr, now)
        self.ledgers[mid] = Ledger(self.cfg.get("shared_cache_bytes", 0))
        if fd is not None:  # on the ROUTER: its disconnect event names the descriptor
            self.fd_of[mid] = fd
            self.mid_of_fd[fd] = mid
        self.blocks_seen.add(mgr.block_id)
        log.info("%s registered: block %s, %d workers", who, mgr.block_id, mgr.workers)
        self._send(mid, [P.ACCEPT, P.dumps({"heartbeat_period": self.hb_period,
                                            "shared_cache_bytes":
                                                self.cfg.get("shared_cache_bytes", 0)})])
        self._event("registered", mid.decode(), mgr.block_id, mgr.workers, mgr.hostname,
                    mgr.cores_total, mgr.mem_total * 2**20, reg.get("python_version"))

    def _lose(self, mid: bytes, why: str) -> None:
        mgr, tasks = self.core.manager_lost(mid)
        self.ledgers.pop(mid, None)
        fd = self.fd_of.pop(mid, None)
        if fd is not None and self.mid_of_fd.get(fd) == mid:
            del self.mid_of_fd[fd]
        link = self.link_of.pop(mid, None)
        if link is not None:  # what was sent last (EXIT) is still read by the manager
            self._close_link(link)
        if mgr is None:
            return
        log.warning("manager %s (block %s) lost: %s; failing %d task(s)",
                    mid.decode(errors="replace"), mgr.block_id, why, len(tasks))
        exc = ManagerLost(mid.decode(errors="replace"), mgr.hostname, why)
        # The event first: the block is marked failed before its tasks' futures complete.
        self._event("lost", mid.decode(errors="replace"), mgr.block_id, why)
        self._fail([(t.task_id, exc) for t in tasks])

    def _on_disconnect(self) -> None:
        event = parse_monitor_message(self.monitor.recv_multipart())
        if event["event"] != zmq.EVENT_DISCONNECTED:
            self._refuse("a connection to %s failed its security handshake (%s): a manager "
                         "with wrong CurveZMQ keys, or not encrypted; it was refused",
                         event["endpoint"].decode(errors="replace"),
                         zmq.Event(event["event"]).name)
            return
        mid = self.mid_of_fd.get(int(event["value"]))
        if mid is not None:
            self._lose(mid, "its connection closed (the process died or the node is gone)")

    def _refuse(self, what: str, *args: Any) -> None:
        # A refused peer retries every 100 ms: warn once per minute, count the rest.
        self.refused += 1
        now = time.monotonic()
        if now - self.refused_warned >= 60:
            self.refused_warned = now
            log.warning(what + " [%d refused so far]", *args, self.refused)

    # -- local managers (Unix socket) -------------------------------------------------------
    def _accept(self) -> None:
        assert self.listener is not None
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            _, uid, _ = _PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                         _PEERCRED.size))
            if uid != os.getuid():
                self._refuse("a connection to the local socket from user id %d was refused",
                             uid)
                conn.close()
                continue
            link = _Link(Channel(conn))
            self.links[link.chan.fd] = link
            self.poller.register(link.chan.fd, zmq.POLLIN)

    def _on_link(self, link: _Link, events: int) -> None:
        if events & zmq.POLLOUT and not link.chan.flush():
            self.links_waiting.discard(link)
            self.poller.register(link.chan.fd, zmq.POLLIN)
        if not events & zmq.POLLIN:
            return
        try:
            messages = link.chan.recv(BATCH)
        except Exception as exc:  # not this format at all (sizes that cannot be)
            self._refuse("a connection to the local socket sent no message (%s: %s); it was "
                         "closed", type(exc).__name__, exc)
            link.chan.eof = True
            messages = []
        for frames in messages:
            if len(frames) < 2:
                self._refuse("a malformed message on the local socket was dropped")
                continue
            mid = bytes(frames[0])
            if not link.mid:
                if mid in self.link_of or mid in self.core.managers:
                    self._refuse("a second connection as manager %r was refused", mid)
                    self._close_link(link)
                    return
                link.mid = mid
                self.link_of[mid] = link
            elif mid != link.mid:
                self._refuse("a message naming manager %r on the connection of %r was "
                             "dropped", mid, link.mid)
                continue
            self._on_manager(frames, local=True)
            if link.chan.fd < 0:  # closed while handling the message (lost, refused)
                return
        if link.chan.eof or link.chan.broken:
            self._close_link(link)
            if self.link_of.get(link.mid) is link:
                del self.link_of[link.mid]
                self._lose(link.mid, "its connection closed (the process died)")

    def _close_link(self, link: _Link) -> None:
        fd = link.chan.fd
        if self.links.pop(fd, None) is not None:
            self.poller.unregister(fd)
        self.links_waiting.discard(link)
        link.chan.close()
        link.chan.fd = -1

    # -- loop --------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        for action in self.core.dispatch(time.monotonic()):
            sent: list[tuple[bytes, int]] = []
            dropped: list[bytes] = []
            shared: list[Any] = []
            ledger = self.ledgers[action.mid]
            for task in action.tasks:  # held here: the executor pins each until the task ends
                ledger.offer(task.refs, self.shared, sent, dropped, shared)
            meta = (action.new_digests,
                    [(t.task_id, t.digest, len(t.frames), t.refs) for t in action.tasks],
                    sent, dropped)
            frames: list[Any] = [P.TASKS, P.dumps(meta)]
            frames += [self.bodies[d] for d in action.new_digests]
            frames += shared
            for task in action.tasks:
                frames += task.frames
                task.frames = None  # the manager has them now; free the memory
            self._send(action.mid, frames)
        for mid in self.core.drained() if self.core.draining else ():
            self._send(mid, [P.EXIT])
            self._lose(mid, "drained")

    def _timers(self, now: float, next_beat: float) -> float:
        # Once per heartbeat period, not per loop: both scans cost O(managers). A silent
        # manager is therefore found within threshold + period.
        if now < next_beat:
            return next_beat
        for mid in self.core.silent_managers(now):
            self._lose(mid, f"no heartbeat for {self.core.heartbeat_threshold:g} s")
        for mid in list(self.core.managers):
            self._send(mid, [P.HEARTBEAT])
        self._to_executor([P.HEARTBEAT])  # the executor gives up on a silent interchange
        self._check_executor(now)
        return now + self.hb_period

    def _check_executor(self, now: float) -> None:
        # A silent executor is only logged: its death closes stdin, and a script stopped
        # with Ctrl-Z must find its executor working when it resumes.
        silent = now - self.executor_heard > self.core.heartbeat_threshold
        if silent and not self.executor_silent:
            log.warning("nothing from the executor for %.1f s (its process stopped?); results "
                        "wait for it", now - self.executor_heard)
        elif self.executor_silent and not silent:
            log.info("the executor is heard from again")
        self.executor_silent = silent

    def run(self) -> None:
        """Serve until the executor says SHUTDOWN or goes away."""
        self._to_executor([P.STARTED, P.dumps({"worker_port": self.worker_port,
                                               "pid": os.getpid()})])
        exe, poller, links = self.exe, self.poller, self.links
        exe.flush()
        poller.register(exe.fd, zmq.POLLIN)
        if self.listener is not None:
            poller.register(self.listener.fileno(), zmq.POLLIN)
        poller.register(self.router, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        stdin = sys.stdin.fileno()
        poller.register(stdin, zmq.POLLIN)
        watching_room = False
        next_beat = time.monotonic() + self.hb_period
        while self.running:
            now = time.monotonic()
            # Messages already read but not yet handled: no waiting for more.
            timeout = 0 if exe.backlog else int(max(0.0, next_beat - now) * 1000) + 1
            ready = dict(poller.poll(timeout))
            if self.router in ready:
                drain(self.router, self._on_manager)
            if links:
                for fd, link_events in ready.items():
                    link = links.get(fd)
                    if link is not None:
                        self._on_link(link, link_events)
            exe.flush()  # the results first: the executor's futures need not wait
            if self.listener is not None and self.listener.fileno() in ready:
                self._accept()
            events = ready.get(exe.fd, 0)
            if events & zmq.POLLIN or exe.backlog:
                if events & zmq.POLLIN:
                    self.executor_heard = time.monotonic()
                self._from_executor()
            if exe.eof or exe.broken:
                log.warning("the executor's process is gone (its channel closed); exiting")
                self.running = False
            if self.monitor in ready:
                self._on_disconnect()
            if stdin in ready:
                log.warning("the executor's process is gone (stdin closed); exiting")
                self.running = False
            self._dispatch()
            next_beat = self._timers(time.monotonic(), next_beat)
            exe.flush()
            if exe.pending != watching_room:  # watch for room only while bytes wait
                watching_room = exe.pending
                poller.register(exe.fd, zmq.POLLIN | (zmq.POLLOUT if watching_room else 0))
            for link in self.links_waiting:
                poller.register(link.chan.fd, zmq.POLLIN | zmq.POLLOUT)
        self.close()


    def close(self) -> None:
        """Tell every manager to exit, then close the sockets."""
        for mid in list(self.core.managers):
            self._send(mid, [P.EXIT])
        for link in list(self.links.values()):
            link.chan.flush_for(0.2)
            self._close_link(link)
        if self.listener is not None:
            self.listener.close()
            path = self.cfg["manager_ipc"]
            try:  # the executor removes them too, unless its process was killed
                os.unlink(path)
                os.rmdir(os.path.dirname(path))
            except OSError:
                pass
        if self.auth is not None:
            self.auth.stop()
        self.ctx.destroy(linger=0)
        self.exe.sock.close()


def main() -> None:
    """Entry point: read settings from stdin, serve, exit."""
    cfg = pickle.load(sys.stdin.buffer)
    os.makedirs(cfg["logdir"], exist_ok=True)
    logging.basicConfig(
        filename=os.path.join(cfg["logdir"], "interchange.log"),
        level=logging.DEBUG if cfg.get("debug") else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        Interchange(cfg).run()
    except Exception:
        log.exception("interchange failed")
        raise
    log.info("interchange exiting")


if __name__ == "__main__":
    main()
