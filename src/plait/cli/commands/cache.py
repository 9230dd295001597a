"""``plait cache``: list or empty the staging cache of this machine."""

from __future__ import annotations

import argparse
import time

HELP = "List the staging cache of this machine (fetched input files), or empty it."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", metavar="DIR",
                        help="the cache directory (default: $PLAIT_CACHE_DIR, else "
                             "~/.cache/plait/staging)")
    parser.add_argument("--clear", action="store_true",
                        help="remove every entry (entries being downloaded now are kept)")
    parser.add_argument("--max-size", metavar="BYTES", type=int,
                        help="remove least recently used entries down to BYTES")


def run(args: argparse.Namespace) -> int:
    from plait.data._cache import Cache, default_dir

    directory = args.dir or default_dir()
    cache = Cache(directory, size_limit=0)
    if args.clear or args.max_size is not None:
        removed, freed = cache.evict(0 if args.clear else args.max_size)
        print(f"removed {removed} entries ({_size(freed)}) from {directory}")
        return 0
    entries = cache.entries()
    for entry in reversed(entries):  # most recently used first
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.used))
        print(f"{used}  {_size(entry.size):>9}  {entry.url}")
    total = sum(e.size for e in entries)
    print(f"{len(entries)} entries, {_size(total)}, in {directory}")
    return 0


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
