"""Parsl's ``parsl.providers.azure.azure`` path: AzureProvider."""

from plait.providers.azure._provider import AzureProvider as AzureProvider

__all__ = ["AzureProvider"]
