"""Parsl-compatible import path: ``from plait.dataflow.dflow import DataFlowKernel``."""

from plait.dataflow._kernel import DataFlowKernel as DataFlowKernel
from plait.dataflow._loader import DataFlowKernelLoader as DataFlowKernelLoader

__all__ = ["DataFlowKernel", "DataFlowKernelLoader"]
