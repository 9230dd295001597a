"""Parsl paths whose classes arrive in a later plait release: resolve them, or explain.

A path module lists in ``__all__`` what it will re-export and defines
``__getattr__(name)`` as ``resolve_later(...)``: each name is the same object as in the
package that will hold it once that exists, and raises NotYetAvailable (an ImportError
saying what to do) until then. So ``from plait.providers.slurm.slurm import SlurmProvider``
either works or explains itself, and starts working when the provider lands.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from plait._errors import NotYetAvailable

PROVIDER_HINT = "use LocalProvider for now, or keep running this config with Parsl"


def resolve_later(module: str, name: str, names: Sequence[str], source: str,
                  hint: str) -> object:
    """``source.name`` if ``name`` is one of ``names`` and ``source`` has it.

    Raises:
        AttributeError: ``name`` is not one of ``names``.
        NotYetAvailable: ``source`` (or its ``name``) does not exist yet.
    """
    if name not in names:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(source), name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not source.startswith(exc.name):
            raise  # a dependency of the source is missing: that error says which
        raise NotYetAvailable(name, module, hint) from None
    except AttributeError:
        raise NotYetAvailable(name, module, hint) from None
