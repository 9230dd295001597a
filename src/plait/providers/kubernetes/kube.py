"""Parsl's ``parsl.providers.kubernetes.kube`` path: KubernetesProvider,
once plait.providers has it."""

from plait._pending import PROVIDER_HINT, resolve_later

__all__ = ["KubernetesProvider"]  # noqa: F822 - resolved by __getattr__


def __getattr__(name: str) -> object:
    return resolve_later(__name__, name, __all__, "plait.providers", PROVIDER_HINT)
