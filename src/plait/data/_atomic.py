"""Files appear whole or not at all: transfers write to a part file and rename it in place."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def part_name(dest: str) -> str:
    """A temporary name beside ``dest``, unique to this process and thread."""
    return f"{dest}.part-{os.getpid()}-{threading.get_ident()}"


def make_parent(path: str) -> None:
    """Create the directory ``path`` goes in, if it has one."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)


def write_whole(dest: str, write: Callable[[str], T]) -> T:
    """Run ``write(part)`` and rename the part file to ``dest``; on failure remove it."""
    make_parent(dest)
    part = part_name(dest)
    try:
        result = write(part)
        os.replace(part, dest)
        return result
    finally:
        if os.path.lexists(part):
            os.unlink(part)


def place(src: str, dest: str) -> None:
    """Put a copy of ``src`` at ``dest`` atomically: a hard link if they share a file
    system (no bytes copied), else a copy."""
    def link_or_copy(part: str) -> None:
        try:
            os.link(src, part)
        except OSError:  # another file system, or links not allowed there
            shutil.copyfile(src, part)

    write_whole(dest, link_or_copy)
