"""Parsl's ``parsl.providers.kubernetes.kube`` path: KubernetesProvider."""

from plait.providers.kubernetes._provider import KubernetesProvider as KubernetesProvider

__all__ = ["KubernetesProvider"]
