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
    _lock: ClassVar[threading.RLock] = threading.RLock()  # cleanup of a failed load re-enters

    @classmethod
    def load(cls, config: Config | None = None) -> DataFlowKernel:
        """Build a DataFlowKernel from ``config`` (a local default if None) and make it current.

        Raises:
            ConfigurationError: a kernel is already loaded.
        """
        from plait.dataflow._kernel import DataFlowKernel

        with cls._lock:
            if cls._dfk is not None:
                raise ConfigurationError(
                    "Config has already been loaded: call plait.dfk().cleanup() (or use "
                    "'with plait.load(config):') before loading another, or plait.clear() "
                    "to forget the current one")
            cls._dfk = DataFlowKernel(config)
            return cls._dfk

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        """The current kernel.

        Raises:
            NoDataFlowKernelError: nothing is loaded.
        """
        dfk = cls._dfk
        if dfk is None:
            raise NoDataFlowKernelError(
                "Must first load config: call plait.load(config) before calling apps, or "
                "bind the app to a kernel with data_flow_kernel=")
        return dfk

    @classmethod
    def clear(cls) -> None:
        """Forget the current kernel without cleaning it up."""
        with cls._lock:
            cls._dfk = None

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
