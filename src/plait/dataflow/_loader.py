"""The process-wide "current" kernel behind plait.load(), plait.dfk() and plait.clear()."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

from plait._errors import ConfigurationError, NoDataFlowKernelError

if TYPE_CHECKING:
    from plait._config import Config
    from plait.dataflow._kernel import DataFlowKernel


class DataFlowKernelLoader:
    """Holds the kernel that apps without ``data_flow_kernel=`` submit to."""

    _dfk: ClassVar[DataFlowKernel | None] = None
    _loading: ClassVar[object | None] = None  # the token of the load in progress, if any
    # Guards the two slots above, for a few lines: a kernel is built (executors started,
    # processes spawned, blocks submitted) with it released, so other threads never wait.
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def load(cls, config: Config | None = None) -> DataFlowKernel:
        """Build a DataFlowKernel from ``config`` (a local default if None) and make it current.

        Raises:
            ConfigurationError: a kernel is already loaded, or another thread is loading one.
        """
        from plait.dataflow._kernel import DataFlowKernel

        token = object()
        with cls._lock:
            if cls._dfk is not None:
                raise ConfigurationError(
                    "Config has already been loaded: call plait.dfk().cleanup() (or use "
                    "'with plait.load(config):') before loading another, or plait.clear() "
                    "to forget the current one")
            if cls._loading is not None:
                raise ConfigurationError(
                    "another thread's Config is being loaded: load one config per process, "
                    "or build more kernels with DataFlowKernel(config) and bind apps to "
                    "them with data_flow_kernel=")
            cls._loading = token
        try:
            dfk = DataFlowKernel(config)
        except BaseException:
            with cls._lock:
                if cls._loading is token:
                    cls._loading = None
            raise
        dfk.on_cleanup(cls.forget)  # before publishing: a cleanup right after must forget it
        with cls._lock:
            if cls._loading is token:  # else plait.clear() ran meanwhile: stay unpublished
                cls._loading = None
                cls._dfk = dfk
        return dfk

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        """The current kernel.

        Raises:
            NoDataFlowKernelError: nothing is loaded (or a load has not finished yet).
        """
        dfk = cls._dfk
        if dfk is None:
            raise NoDataFlowKernelError(
                "Must first load config: call plait.load(config) before calling apps, or "
                "bind the app to a kernel with data_flow_kernel=")
        return dfk

    @classmethod
    def clear(cls) -> None:
        """Forget the current kernel without cleaning it up (and any load in progress: the
        kernel it builds is returned to its caller but not made current)."""
        with cls._lock:
            cls._dfk = None
            cls._loading = None

    @classmethod
    def forget(cls, dfk: DataFlowKernel) -> None:
        """Forget ``dfk`` if it is the current kernel (called by its cleanup)."""
        with cls._lock:
            if cls._dfk is dfk:
                cls._dfk = None

    @classmethod
    def wait_for_current_tasks(cls) -> None:
        """Wait for every task of the current kernel."""
        cls.dfk().wait_for_current_tasks()


load = DataFlowKernelLoader.load
dfk = DataFlowKernelLoader.dfk
clear = DataFlowKernelLoader.clear
wait_for_current_tasks = DataFlowKernelLoader.wait_for_current_tasks
