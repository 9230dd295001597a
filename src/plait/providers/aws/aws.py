"""Parsl's ``parsl.providers.aws.aws`` path: AWSProvider."""

from plait.providers.aws._provider import AWSProvider as AWSProvider

__all__ = ["AWSProvider"]
