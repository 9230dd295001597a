"""Building a Config from a site entry, with the user's overrides checked one by one.

``config("delta", account="abc", walltime="01:00:00")``: each override names a parameter of
the entry's executor, provider or launcher, or a Config field (looked up in that order;
``"executor.label"``-style keys pick one explicitly). A name none of them has, a value of
the wrong type, or a required parameter left out is a SiteError naming the site and the
parameter; the classes' own checks then apply as usual.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from plait._errors import NotYetAvailable
from plait.sites._errors import SiteError
from plait.sites._schema import SiteEntry, component_class, config_fields, known_params

#: where an override name is looked for, in order (``label`` means the executor's)
GROUPS = ("executor", "provider", "launcher", "config")


def _params_of(entry: SiteEntry, group: str) -> frozenset[str]:
    if group == "config":
        return config_fields()
    component = getattr(entry, group)
    if component is None:
        return frozenset()
    return (known_params(group, component.kind) or frozenset()) - {"provider", "launcher"}


def place_overrides(entry: SiteEntry, overrides: Mapping[str, Any]
                    ) -> dict[str, dict[str, Any]]:
    """Each override, by the group (provider, executor, launcher, config) it applies to."""
    placed: dict[str, dict[str, Any]] = {g: {} for g in GROUPS}
    where = f"site {entry.name}"
    for key, value in overrides.items():
        group, _, name = key.rpartition(".")
        if group:
            if group not in GROUPS or name not in _params_of(entry, group):
                raise SiteError(where, key, f"not a parameter of this site's {group or '?'}; "
                                f"{_allowed(entry)}")
        else:
            group = next((g for g in GROUPS if name in _params_of(entry, g)), "")
            if not group:
                raise SiteError(where, key, f"unknown parameter{_did_you_mean(entry, name)}; "
                                f"{_allowed(entry)}")
        _check_type(entry, group, name, value)
        placed[group][name] = value
    return placed


def _did_you_mean(entry: SiteEntry, name: str) -> str:
    """`` (did you mean account?)`` for a near miss among the site's parameters, else ``""``."""
    names = {n for g in GROUPS for n in _params_of(entry, g)}
    close = difflib.get_close_matches(name, sorted(names), n=2, cutoff=0.75)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _allowed(entry: SiteEntry) -> str:
    parts = []
    for group in GROUPS:
        names = sorted(_params_of(entry, group))
        if names:
            kind = "Config" if group == "config" else getattr(entry, group).kind
            parts.append(f"{group} ({kind}): {', '.join(names)}")
    return "parameters are " + "; ".join(parts)


def _default(entry: SiteEntry, group: str, name: str) -> Any:
    table = entry.config if group == "config" else getattr(entry, group).params
    if name in table:
        return table[name]
    if group == "config":
        from plait._config import Config

        cls: type | None = Config
    else:
        cls = component_class(group, getattr(entry, group).kind)
    if cls is None:
        return None
    param = inspect.signature(cls).parameters.get(name)
    return None if param is None or param.default is param.empty else param.default


def _check_type(entry: SiteEntry, group: str, name: str, value: Any) -> None:
    expected = _default(entry, group, name)
    if expected is None or value is None:
        return
    kinds: tuple[type, ...] = (type(expected),)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        kinds = (int, float)
    if isinstance(value, bool) != isinstance(expected, bool) or not isinstance(value, kinds):
        raise SiteError(f"site {entry.name}", name,
                        f"{value!r} is a {type(value).__name__}; this parameter takes a value of "
                        f"type {type(expected).__name__} (the site's value is {expected!r})")


def _class(group: str, kind: str, entry: SiteEntry) -> Callable[..., Any]:
    cls = component_class(group, kind)
    if cls is None:
        raise NotYetAvailable(kind, f"plait.{group}s", f"site {entry.name!r} needs it; until "
                              "it lands use a site on a provider plait has (plait sites list)")
    return cls


def _address(rule: str) -> str:
    from plait.executors import _addresses

    if rule.startswith("interface:"):
        return _addresses.address_by_interface(rule.split(":", 1)[1])
    return {"route": _addresses.address_by_route, "hostname": _addresses.address_by_hostname,
            "query": _addresses.address_by_query}[rule]()


def build_config(entry: SiteEntry, overrides: Mapping[str, Any]) -> Any:
    """The Config ``entry`` describes, with ``overrides`` applied (see the module)."""
    from plait._config import Config
    from plait._errors import ConfigurationError

    placed = place_overrides(entry, overrides)
    given = {n for group in placed.values() for n in group}
    missing = [f"{k} ({text})" for k, text in entry.required.items() if k not in given]
    if missing:
        raise SiteError(f"site {entry.name}", "required",
                        f"give {', '.join(missing)}: plait.sites.config({entry.name!r}, "
                        f"{', '.join(f'{k}=...' for k in entry.required if k not in given)})")
    try:
        launcher = provider = None
        if entry.launcher is not None:
            launcher = _class("launcher", entry.launcher.kind, entry)(
                **{**entry.launcher.params, **placed["launcher"]})
        if entry.provider is not None:
            extra = {"launcher": launcher} if launcher is not None else {}
            provider = _class("provider", entry.provider.kind, entry)(
                **{**entry.provider.params, **extra, **placed["provider"]})
        ex_params = {**entry.executor.params, **placed["executor"]}
        if provider is not None:
            ex_params["provider"] = provider
        if entry.address and "address" not in ex_params:
            ex_params["address"] = _address(entry.address)
        executor = _class("executor", entry.executor.kind, entry)(**ex_params)
        return Config(executors=[executor], **{**entry.config, **placed["config"]})
    except (ConfigurationError, TypeError, ValueError, OSError) as exc:
        raise SiteError(f"site {entry.name} ({entry.source})", "",
                        f"could not be built: {exc}") from exc
