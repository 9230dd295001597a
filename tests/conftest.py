"""Fixtures shared by every test: a fresh kernel per test, with its own run directory."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import plait
from plait import Config, ThreadPoolExecutor
from plait.dataflow.dflow import DataFlowKernel

# Task modules next to the tests (behaviour_tasks.py) must be importable by name, here and
# in worker processes, which get this directory on PYTHONPATH from their worker_init.
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)


@pytest.fixture
def run_dir(tmp_path: Path) -> str:
    return str(tmp_path / "runinfo")


@pytest.fixture
def dfk(run_dir: str) -> Iterator[DataFlowKernel]:
    """A loaded kernel on a 4-thread pool; cleaned up (and cleared) after the test."""
    plait.clear()
    kernel = plait.load(Config(executors=[ThreadPoolExecutor(max_threads=4)],
                               run_dir=run_dir, strategy="none"))
    try:
        yield kernel
    finally:
        kernel.cleanup(wait=False)
        plait.clear()
