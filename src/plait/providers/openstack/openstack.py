"""``plait.providers.openstack.openstack``: OpenStackProvider, laid out as Parsl lays out its
cloud providers (Parsl has no OpenStack provider)."""

from plait.providers.openstack._provider import OpenStackProvider as OpenStackProvider

__all__ = ["OpenStackProvider"]
