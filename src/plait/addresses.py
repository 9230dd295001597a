"""Parsl's ``parsl.addresses`` path: find an address of this host for workers to use."""

from plait.executors._addresses import address_by_hostname as address_by_hostname
from plait.executors._addresses import address_by_interface as address_by_interface
from plait.executors._addresses import address_by_query as address_by_query
from plait.executors._addresses import address_by_route as address_by_route
from plait.executors._addresses import get_all_addresses as get_all_addresses
from plait.executors._addresses import get_any_address as get_any_address
from plait.executors._addresses import tcp_url as tcp_url

__all__ = ["address_by_hostname", "address_by_interface", "address_by_query",
           "address_by_route", "get_all_addresses", "get_any_address", "tcp_url"]
