"""Addresses of this host that workers may use to reach it (Parsl's ``parsl.addresses``).

Which helper works depends on the network between the submitting host and the workers:
``address_by_hostname`` when the cluster resolves host names, ``address_by_interface`` on
a known interconnect (``ib0``), ``address_by_route`` for the interface with the default
route, ``address_by_query`` for a public address. ``HighThroughputExecutor(address=None)``
needs none of them: workers try every address of ``get_all_addresses()``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket

log = logging.getLogger(__name__)

#: where address_by_query asks for this host's public address
QUERY_URL = "https://api.ipify.org"


def address_by_hostname() -> str:
    """This host's fully qualified name (usable where workers can resolve it)."""
    return socket.getfqdn()


def address_by_route() -> str:
    """The address of the interface that routes to the internet (no packet is sent).

    Raises:
        OSError: this host has no default route.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("8.8.8.8", 53))  # a UDP connect only picks the route
        except OSError as exc:
            raise OSError(f"address_by_route: this host has no route to the internet "
                          f"({exc}); use address_by_interface(NAME) or "
                          "address_by_hostname() instead") from exc
        address: str = probe.getsockname()[0]
        return address


def address_by_query(timeout: float = 30, url: str = QUERY_URL) -> str:
    """This host's public address, as a web service (ipify by default) sees it.

    Args:
        timeout: seconds to wait for the answer.
        url: the service to ask (a plait addition); it must answer with the address alone.

    Raises:
        OSError: the service could not be reached or did not answer with an address.
    """
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            text = reply.read(256).decode("ascii", "replace").strip()
    except OSError as exc:
        raise OSError(f"address_by_query: could not ask {url} for this host's public "
                      f"address ({exc}); use address_by_route() or "
                      "address_by_interface(NAME) instead") from exc
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise OSError(f"address_by_query: {url} answered {text!r}, not an IP address") \
            from None


def _interfaces() -> dict[str, list[str]]:
    import psutil

    found: dict[str, list[str]] = {}
    for name, addrs in psutil.net_if_addrs().items():
        found[name] = [a.address for a in addrs if a.family == socket.AF_INET]
    return found


def address_by_interface(ifname: str) -> str:
    """The IPv4 address of network interface ``ifname`` (e.g. ``"ib0"``, ``"eth0"``).

    Raises:
        ValueError: no such interface, or it has no IPv4 address; the message lists the
            interfaces that have one.
    """
    interfaces = _interfaces()
    addresses = interfaces.get(ifname)
    if addresses:
        return addresses[0]
    usable = ", ".join(f"{n} ({a[0]})" for n, a in sorted(interfaces.items()) if a)
    what = "has no IPv4 address" if ifname in interfaces else "does not exist"
    raise ValueError(f"address_by_interface: interface {ifname!r} {what} on this host; "
                     f"interfaces with an address: {usable or 'none'}")


def get_all_addresses() -> set[str]:
    """Every address of this host that a helper above finds (those that fail are skipped)."""
    found: set[str] = set()
    for addresses in _interfaces().values():
        found.update(addresses)
    for helper in (address_by_hostname, address_by_route):
        try:
            found.add(helper())
        except OSError as exc:
            log.debug("%s found no address: %s", helper.__name__, exc)
    return found


def get_any_address() -> str:
    """One address of this host: the routed one, else any interface's, else the host name."""
    try:
        return address_by_route()
    except OSError:
        pass
    for addresses in _interfaces().values():
        for address in addresses:
            if not address.startswith("127."):
                return address
    return address_by_hostname()


def tcp_url(address: str, port: int | str | None = None) -> str:
    """``tcp://address[:port]``, with an IPv6 address in brackets."""
    url = f"tcp://[{address}]" if ":" in address else f"tcp://{address}"
    return url if port is None else f"{url}:{port}"
