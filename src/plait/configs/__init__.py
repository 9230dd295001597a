"""Ready configs by site, as in Parsl: ``from plait.configs.htex_local import config``.

The modules are made from the site registry (``plait.sites``), not written one by one:
importing ``plait.configs.NAME`` finds the entry called NAME and gives a module with

    config          a Config for the site with its defaults (built on first access)
    fresh_config    fresh_config(**overrides) -> a new Config (see plait.sites.config)
    entry           the SiteEntry it comes from

A site that needs parameters only its users know (an account, a partition) has no default
``config``: accessing it raises SiteError naming them; call ``fresh_config(account=...)``.
Parsl's configs for executors plait does not ship (``wqex_local``, ``vineex_local``,
``toss3_llnl``, ``gc_tutorial``, ``gc_multisite``) import too; their ``config`` raises the
executor's ExecutorNotShipped, which says what to use instead.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

#: Parsl's config modules whose executor plait does not ship -> that executor's name
NOT_SHIPPED = {"wqex_local": "WorkQueueExecutor", "vineex_local": "TaskVineExecutor",
               "toss3_llnl": "FluxExecutor", "gc_tutorial": "GlobusComputeExecutor",
               "gc_multisite": "GlobusComputeExecutor"}


class _SiteModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``plait.configs.NAME`` for every NAME in the site registry."""

    prefix = __name__ + "."

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.prefix) or "." in fullname[len(self.prefix):]:
            return None
        name = fullname[len(self.prefix):]
        if _entry_name(name) is None and name not in NOT_SHIPPED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin="plait site registry")

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        from plait.sites import config as build
        from plait.sites import show

        short = module.__name__[len(self.prefix):]
        name = _entry_name(short)
        if name is None:
            _not_shipped(module, NOT_SHIPPED[short])
            return
        entry = show(name)
        module.__doc__ = f"{entry.title}: a config from the site registry ({entry.source})."
        module.entry = entry  # type: ignore[attr-defined]

        def fresh_config(**overrides: Any) -> Any:
            """A new Config for this site, with ``overrides`` checked one by one."""
            return build(name, **overrides)

        _lazy_config(module, fresh_config)
        module.__all__ = ["config", "entry", "fresh_config"]  # type: ignore[attr-defined]


def _not_shipped(module: ModuleType, executor: str) -> None:
    """Parsl's config for ``executor``: building it raises the executor's own error."""
    from plait.executors import _not_shipped as classes

    module.__doc__ = (f"Parsl's config for {executor}, which plait does not ship: its "
                      "config raises ExecutorNotShipped, saying what to use instead.")

    def fresh_config(**overrides: Any) -> Any:
        """Raises ExecutorNotShipped, naming what to use instead."""
        return getattr(classes, executor)(**overrides)

    _lazy_config(module, fresh_config)
    module.__all__ = ["config", "fresh_config"]  # type: ignore[attr-defined]


def _lazy_config(module: ModuleType, fresh_config: Any) -> None:
    """Give ``module`` its ``fresh_config`` and a ``config`` built on first access."""

    def __getattr__(attr: str) -> Any:
        if attr == "config":  # built once, on first access, like Parsl's module global
            value = fresh_config()
            module.config = value  # type: ignore[attr-defined]
            return value
        raise AttributeError(f"module {module.__name__!r} has no attribute {attr!r}")

    module.fresh_config = fresh_config  # type: ignore[attr-defined]
    module.__getattr__ = __getattr__  # type: ignore[method-assign]


def _entry_name(module: str) -> str | None:
    """The registry entry for ``module``; Parsl's ``ASPIRE1`` and ``Azure`` are ``aspire1``
    and ``azure`` (entry names are lower case)."""
    from plait.sites._registry import all_entries

    entries = all_entries()
    for name in (module, module.lower()):
        if name in entries:
            return name
    return None


def _install() -> None:
    if not any(isinstance(f, _SiteModules) for f in sys.meta_path):
        sys.meta_path.append(_SiteModules())


_install()


def __dir__() -> list[str]:
    from plait.sites._registry import all_entries

    return sorted({*all_entries(), *NOT_SHIPPED})
