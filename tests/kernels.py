"""A context manager that loads a kernel on a 4-thread pool for one test, then cleans up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import plait
from plait import Config, ThreadPoolExecutor
from plait.dataflow.dflow import DataFlowKernel


@contextmanager
def kernel(run_dir: str, **options: Any) -> Iterator[DataFlowKernel]:
    """Load (as the current kernel) a Config with ``options``; clean up and clear after."""
    plait.clear()
    dfk = plait.load(Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir,
                            strategy="none", **options))
    try:
        yield dfk
    finally:
        dfk.cleanup()
        plait.clear()
