"""Parsl's ``parsl.providers.aws.aws`` path: AWSProvider, once plait.providers has it."""

from plait._pending import PROVIDER_HINT, resolve_later

__all__ = ["AWSProvider"]  # noqa: F822 - resolved by __getattr__


def __getattr__(name: str) -> object:
    return resolve_later(__name__, name, __all__, "plait.providers", PROVIDER_HINT)
