"""A site entry as the Python that builds its Config, for users who want a config file of
their own to edit (``plait sites show NAME --python``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plait.sites._build import place_overrides
from plait.sites._schema import SiteEntry

_MODULES = {"executor": "plait.executors", "provider": "plait.providers",
            "launcher": "plait.launchers"}


def _call(kind: str, params: Mapping[str, Any], extra: list[str], indent: int) -> str:
    pad = " " * (indent + 4)
    args = [f"{pad}{k}={v!r}," for k, v in params.items()]
    args += [f"{pad}{e}" if "  # " in e else f"{pad}{e}," for e in extra]  # comments end it
    if not args:
        return f"{kind}()"
    return f"{kind}(\n" + "\n".join(args) + "\n" + " " * indent + ")"


def to_python(entry: SiteEntry, overrides: Mapping[str, Any] | None = None) -> str:
    """Python source that builds ``entry``'s Config with ``overrides`` applied; required
    parameters not given are left as ``"..."`` with a comment saying what to put there."""
    placed = place_overrides(entry, overrides or {})
    given = {n for group in placed.values() for n in group}
    imports = {"from plait.config import Config"}
    launcher = ""
    if entry.launcher is not None:
        imports.add(f"from {_MODULES['launcher']} import {entry.launcher.kind}")
        launcher = _call(entry.launcher.kind, {**entry.launcher.params,
                                               **placed["launcher"]}, [], 16)
    missing = [f'{k}="...",  # REQUIRED: {text}' for k, text in entry.required.items()
               if k not in given]
    provider = ""
    if entry.provider is not None:
        imports.add(f"from {_MODULES['provider']} import {entry.provider.kind}")
        extra = ([f"launcher={launcher}"] if launcher else []) + missing
        provider = _call(entry.provider.kind, {**entry.provider.params,
                                               **placed["provider"]}, extra, 12)
        missing = []
    ex_extra = missing + ([f"provider={provider}"] if provider else [])
    ex_params = {**entry.executor.params, **placed["executor"]}
    if entry.address and "address" not in ex_params:
        rule, _, arg = entry.address.partition(":")
        helper = "address_by_interface" if rule == "interface" else f"address_by_{rule}"
        imports.add(f"from plait.addresses import {helper}")
        ex_extra.insert(0, f"address={helper}({arg!r})" if arg else f"address={helper}()")
    imports.add(f"from {_MODULES['executor']} import {entry.executor.kind}")
    executor = _call(entry.executor.kind, ex_params, ex_extra, 8)
    config = {**entry.config, **placed["config"]}
    fields = "".join(f"    {k}={v!r},\n" for k, v in config.items())
    return (f'"""{entry.title}: from plait\'s site registry ({entry.name}; checked '
            f'{entry.checked.date}, {entry.checked.method}).\n\nDocs: {entry.docs}\n"""\n\n'
            + "\n".join(sorted(imports)) + "\n\nconfig = Config(\n    executors=[\n        "
            + executor + ",\n    ],\n" + fields + ")\n")
