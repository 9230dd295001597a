"""The site registry: ready configurations for clusters and clouds, as data.

    plait.sites.list()                      every known site entry
    plait.sites.show("delta")               one entry
    plait.sites.config("delta", account=…)  a Config for it, with overrides checked
    plait.sites.add("mysite.toml")          validate and install a user entry
    plait.sites.validate("mysite.toml")     validate an entry file
    plait.sites.update(url)                 fetch and cache a remote index of entries

The same from the shell: ``plait sites list|show|add|validate|update``, and ``plait sites
check NAME`` runs one task on a site and records the check. Each entry is a
small TOML file (see ``plait.sites._schema`` for the fields); ``plait.configs.<name>``
modules are made from the same entries.
"""

from __future__ import annotations

import builtins
from typing import Any

from plait.sites._errors import SiteError as SiteError
from plait.sites._registry import add as add
from plait.sites._registry import list_sites as list  # the registry's verb, as plait.sites.list()
from plait.sites._registry import read_entry as validate
from plait.sites._registry import show as show
from plait.sites._schema import SiteEntry as SiteEntry

__all__ = ["SiteEntry", "SiteError", "add", "config", "list", "show", "update", "validate"]


def update(url: str | None = None, timeout: float = 30.0) -> builtins.list[SiteEntry]:
    """Fetch the remote index at ``url`` into the cache (see ``plait.sites._update``)."""
    from plait.sites._update import update as fetch  # urllib, subprocess: only when used

    return fetch(url, timeout)


def config(name: str, **overrides: Any) -> Any:
    """A fresh Config for site ``name``, with ``overrides`` (see ``plait.sites._build``).

    Raises:
        SiteError: unknown site, unknown or mistyped override, missing required parameter.
        NotYetAvailable: the site needs a provider this plait release does not have.
    """
    from plait.sites._build import build_config

    return build_config(show(name), overrides)
