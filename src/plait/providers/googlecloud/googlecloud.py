"""Parsl's ``parsl.providers.googlecloud.googlecloud`` path: GoogleCloudProvider."""

from plait.providers.googlecloud._provider import GoogleCloudProvider as GoogleCloudProvider

__all__ = ["GoogleCloudProvider"]
