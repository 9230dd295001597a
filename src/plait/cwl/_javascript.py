"""The Node.js processes that evaluate CWL expressions, stopped when the kernel is.

cwl-utils keeps one Node.js process per thread (and per expression library) alive between
expressions, in thread-local storage, and never stops them: in a long-lived process (a
notebook, a test session, a web service embedding plait) every thread that evaluated an
expression would leave a ``node`` behind. plait installs an engine that records each process
it starts and stops them all when a kernel that ran CWL work is cleaned up. A process
stopped that way is simply started again by the next expression (cwl-utils checks
``poll()`` before each use).
"""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from cwl_utils import sandboxjs

_lock = threading.Lock()  # guards _started and _kernels
_started: set[subprocess.Popen[str]] = set()
_kernels: set[str] = set()  # run ids of kernels whose cleanup stops the processes


class TrackedNodeJSEngine(sandboxjs.NodeJSEngine):
    """cwl-utils' Node.js engine, recording every process it starts."""

    def new_js_proc(self, js_text: str, force_docker_pull: bool = False,
                    container_engine: str = "docker") -> subprocess.Popen[str]:
        proc = super().new_js_proc(js_text, force_docker_pull=force_docker_pull,
                                   container_engine=container_engine)
        with _lock:
            _started.add(proc)
        return proc


def use_tracked_engine() -> None:
    """Evaluate expressions in this process with the tracked engine from now on (before
    cwltool loads a document or builds a job outside a kernel, so that no untracked
    Node.js process is ever started)."""
    if not isinstance(sandboxjs.get_js_engine(), TrackedNodeJSEngine):
        sandboxjs.set_js_engine(TrackedNodeJSEngine())


def track_javascript(dfk: Any) -> None:
    """Use the tracked engine in this process; stop its processes at ``dfk``'s cleanup."""
    use_tracked_engine()
    with _lock:
        if dfk.run_id in _kernels:
            return
        _kernels.add(dfk.run_id)
    dfk.on_cleanup(_stop_for)


def _stop_for(dfk: Any) -> None:
    with _lock:
        _kernels.discard(dfk.run_id)
    stop_javascript()


def stop_javascript() -> None:
    """Stop every Node.js process the tracked engine started (and reap it)."""
    with _lock:
        procs = list(_started)
        _started.clear()
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # unkillable (D state): nothing more to do
            pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
