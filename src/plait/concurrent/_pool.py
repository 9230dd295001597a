"""ParslPoolExecutor: a ``concurrent.futures.Executor`` whose tasks run as plait apps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from plait._config import Config
    from plait.app._decorators import PythonApp
    from plait.dataflow._futures import AppFuture
    from plait.dataflow._kernel import DataFlowKernel


class ParslPoolExecutor(Executor):
    """Run ``submit``/``map`` calls as plait tasks (Parsl's ``ParslPoolExecutor``).

    Give exactly one of ``config`` (the pool loads it as the current kernel and cleans it
    up at ``shutdown()`` or the end of its ``with`` block) or ``dfk`` (an existing kernel,
    which the pool never shuts down). ``executors`` picks the executor labels tasks may use.
    The futures are AppFutures, so they can be passed to apps and to other ``submit`` calls
    as dependencies.

    Difference from Parsl: ``shutdown(cancel_futures=True)`` cancels the pool's tasks that
    have not started (Parsl only warns, as it cannot cancel tasks).
    """

    def __init__(self, config: Config | None = None, dfk: DataFlowKernel | None = None,
                 executors: Literal["all"] | Sequence[str] = "all") -> None:
        if (config is None) == (dfk is None):
            raise ValueError("ParslPoolExecutor needs exactly one of config= (a Config to "
                             "load) or dfk= (a loaded DataFlowKernel)")
        if config is not None:
            from plait.dataflow._loader import load

            self.dfk = load(config)
            self._owns_dfk = True
        else:
            assert dfk is not None
            self.dfk, self._owns_dfk = dfk, False
        self.executors = executors
        self._apps: dict[Callable[..., Any], PythonApp] = {}
        self._lock = threading.Lock()  # guards _apps, _pending and _shut_down
        self._pending: set[AppFuture] = set()
        self._shut_down = False

    @property
    def app_count(self) -> int:
        """How many functions have an app made for them."""
        return len(self._apps)

    def get_app(self, fn: Callable[..., Any]) -> PythonApp:
        """The app that runs ``fn`` (made on first use, then reused)."""
        from plait.app._decorators import PythonApp

        with self._lock:
            app = self._apps.get(fn)
            if app is None:
                app = PythonApp(fn, data_flow_kernel=self.dfk, executors=self.executors)
                self._apps[fn] = app
            return app

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> AppFuture:
        """Run ``fn(*args, **kwargs)`` as a task; futures among the arguments are waited for.

        Raises:
            RuntimeError: the pool was shut down.
        """
        if self._shut_down:
            raise RuntimeError("cannot submit to a ParslPoolExecutor after shutdown()")
        fut = self.get_app(fn)(*args, **kwargs)
        with self._lock:
            self._pending.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def _forget(self, fut: Any) -> None:
        with self._lock:
            self._pending.discard(fut)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any],
            timeout: float | None = None, chunksize: int = 1,
            buffersize: int | None = None) -> Iterator[Any]:
        """Submit ``fn`` over the zipped ``iterables`` at once; yield results in order.

        ``timeout`` bounds the whole iteration (TimeoutError); ``chunksize`` and
        ``buffersize`` are accepted and ignored, as in Parsl.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        futures = [self.submit(fn, *args) for args in zip(*iterables, strict=False)]

        def results() -> Iterator[Any]:
            for fut in futures:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0 and not fut.done():
                    raise FutureTimeoutError(f"map: results not ready after {timeout} s")
                yield fut.result(timeout=left)

        return results()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new tasks; with ``wait``, wait for the kernel's tasks; clean up an owned
        kernel. With ``cancel_futures``, tasks of this pool that have not started are
        cancelled first."""
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
            pending = list(self._pending)
        if cancel_futures:
            for fut in pending:
                fut.cancel()
        if wait:
            self.dfk.wait_for_current_tasks()
        if self._owns_dfk:
            self.dfk.cleanup()

    def __exit__(self, *exc_info: Any) -> Literal[False]:
        self.shutdown(wait=exc_info[0] is None)
        return False
