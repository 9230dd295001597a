"""Parsl's ``parsl.providers.cluster_provider`` path: the batch-scheduler base class."""

from plait.providers._cluster import ClusterProvider as ClusterProvider

__all__ = ["ClusterProvider"]
