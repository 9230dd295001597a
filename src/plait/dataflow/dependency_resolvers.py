"""Parsl-compatible import path for the dependency resolvers."""

from plait.dataflow._deps import DEEP_DEPENDENCY_RESOLVER as DEEP_DEPENDENCY_RESOLVER
from plait.dataflow._deps import SHALLOW_DEPENDENCY_RESOLVER as SHALLOW_DEPENDENCY_RESOLVER
from plait.dataflow._deps import DependencyResolver as DependencyResolver

__all__ = ["DEEP_DEPENDENCY_RESOLVER", "SHALLOW_DEPENDENCY_RESOLVER", "DependencyResolver"]
