"""RepresentationMixin: a ``repr`` that reads like the constructor call (Parsl's name)."""

from __future__ import annotations

import inspect


class RepresentationMixin:
    """Give a class a ``repr`` of the form ``Name(1, b='x')``, for the classes users write
    themselves (providers, launchers, staging providers), as Parsl's documentation shows.

    Each parameter of ``__init__`` is shown with the value of the attribute of the same
    name: required ones by position, the others by keyword. A parameter kept under no
    attribute of its name shows as ``'<unrecorded>'`` (a repr must not raise).
    """

    def __repr__(self) -> str:
        parts = []
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            text = repr(getattr(self, name, "<unrecorded>"))
            required = param.default is param.empty and param.kind != param.KEYWORD_ONLY
            parts.append(text if required else f"{name}={text}")
        return f"{type(self).__name__}({', '.join(parts)})"
