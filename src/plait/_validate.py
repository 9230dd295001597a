"""Checks for constructor arguments, shared by every configurable class.

Each check raises :class:`ConfigurationError` naming the field, the value given and what is
allowed (and, as ``owner``, the class it belongs to), so that a wrong setting fails where it
is written, never as a TypeError from deep inside a run.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from plait._errors import ConfigurationError


def fail(field: str, value: object, allowed: str, owner: str | None = None,
         hint: str | None = None) -> ConfigurationError:
    """The error for a bad ``field`` (raise it)."""
    where = f"(in {owner})" if owner else ""
    return ConfigurationError(field, value, allowed, " ".join(p for p in (where, hint) if p)
                              or None)


def is_int(value: object) -> bool:
    """An integer (numpy's too), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A real number that is not a bool and not NaN."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and not math.isnan(value))


def _range(low: float | None, high: float | None, strict: bool) -> str:
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" {'>' if strict else '>='} {low:g}"
    return f" <= {high:g}" if high is not None else ""


def check_number(field: str, value: object, *, low: float | None = None,
                 high: float | None = None, strict: bool = False, none: bool = False,
                 inf: bool = False, owner: str | None = None, kind: str = "a number") -> None:
    """A real number within [low, high] (``strict``: above ``low``); ``inf`` allows infinity.

    ``kind`` names it in the message, e.g. "a number of seconds".
    """
    if value is None and none:
        return
    ok = is_number(value) and (inf or math.isfinite(value))  # type: ignore[arg-type]
    if ok and low is not None:
        ok = value > low if strict else value >= low  # type: ignore[operator]
    if ok and high is not None:
        ok = value <= high  # type: ignore[operator]
    if not ok:
        raise fail(field, value, kind + _range(low, high, strict)
                   + (" (or inf)" if inf else "") + (" or None" if none else ""), owner)


def check_int(field: str, value: object, *, low: int | None = None, high: int | None = None,
              none: bool = False, owner: str | None = None) -> None:
    """An int within [low, high]."""
    if value is None and none:
        return
    ok = is_int(value) and (low is None or value >= low) and (  # type: ignore[operator]
        high is None or value <= high)  # type: ignore[operator]
    if not ok:
        raise fail(field, value, "an int" + _range(low, high, False)
                   + (" or None" if none else ""), owner)


def check_bool(field: str, value: object, owner: str | None = None) -> None:
    if not isinstance(value, bool):
        raise fail(field, value, "True or False", owner)


def check_str(field: str, value: object, *, empty: bool = False, none: bool = False,
              owner: str | None = None) -> None:
    """A string (non-empty unless ``empty``)."""
    if value is None and none:
        return
    if not isinstance(value, str) or not (empty or value):
        kind = "a string" if empty else "a non-empty string"
        raise fail(field, value, kind + (" or None" if none else ""), owner)


def check_list(field: str, value: object, allowed: str, *, none: bool = False,
               owner: str | None = None, item_methods: Sequence[str] = ()) -> None:
    """A list or tuple (``allowed`` says of what) whose items have ``item_methods``."""
    if value is None and none:
        return
    if not isinstance(value, (list, tuple)):
        raise fail(field, value, allowed + (" or None" if none else ""), owner)
    for item in value:
        if isinstance(item, type) or not all(callable(getattr(item, m, None))
                                             for m in item_methods):
            hint = "Pass instances, not classes." if isinstance(item, type) else None
            raise fail(field, item, allowed + (" or None" if none else ""), owner, hint)


def check_str_map(field: str, value: object, owner: str | None = None, *,
                  none: bool = False) -> None:
    """A dict of strings to strings (environment, tags, labels, annotations)."""
    if value is None and none:
        return
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise fail(field, value, "a dict of strings to strings, or None", owner)


def check_str_list(field: str, value: object, *, none: bool = False,
                   owner: str | None = None) -> None:
    """A list or tuple of strings (a lone string is refused: it is not a list of them)."""
    if value is None and none:
        return
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not all(
            isinstance(v, str) for v in value):
        raise fail(field, value, "a list of strings" + (" or None" if none else ""), owner)


def check_choice(field: str, value: object, allowed: Sequence[object],
                 owner: str | None = None) -> None:
    try:
        ok = value in allowed
    except TypeError:  # an unhashable value compared with a set, say
        ok = False
    if not ok:
        raise fail(field, value, "one of " + " or ".join(repr(a) for a in allowed), owner)


def check_callable(field: str, value: object, *, none: bool = True,
                   owner: str | None = None) -> None:
    if not (callable(value) or (none and value is None)):
        raise fail(field, value, "a callable" + (" or None" if none else ""), owner)


def check_methods(field: str, value: object, methods: Sequence[str], allowed: str, *,
                  none: bool = False, owner: str | None = None) -> None:
    """An instance with these callable methods (a class given instead is named as such)."""
    if value is None and none:
        return
    if isinstance(value, type) or not all(callable(getattr(value, m, None)) for m in methods):
        hint = "Pass an instance, not the class." if isinstance(value, type) else None
        raise fail(field, value, allowed + (" or None" if none else ""), owner, hint)


def check_radio(value: object, owner: str) -> None:
    """An executor's ``remote_monitoring_radio``: a radio instance, or None."""
    check_methods("remote_monitoring_radio", value, ("spec", "start_receiver"),
                  "a radio from plait.monitoring.radios (HTEXRadio(), UDPRadio(), ...)",
                  none=True, owner=owner)
