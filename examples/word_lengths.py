"""A small real workflow on plait's local default.

1. A bash app writes N text files (one per chunk of the system dictionary-like word list
   it generates with `seq` and `awk`).
2. Python apps count the words of each length in each file, in parallel.
3. A reduce app merges the counts; the script prints what ran and where its files are.

Run it with `make demo` or `python examples/word_lengths.py [N]`.
"""

from __future__ import annotations

import collections
import sys
import time

import plait
from plait import File, bash_app, python_app


@bash_app
def make_text(index: int, outputs: list[File] = (), stdout: str | None = None) -> str:
    """Write a file of pseudo-words of varied length (deterministic per index)."""
    return (f"seq {index * 1000} {index * 1000 + 999} | "
            "awk '{ w = \"\"; n = ($1 * 7919) % 11 + 1; "
            "for (i = 0; i < n; i++) w = w sprintf(\"%c\", 97 + ($1 + i) % 26); print w }' "
            f"> {outputs[0]}")


@python_app
def count_lengths(inputs: list[File] = ()) -> dict[int, int]:
    """How many words of each length the input file holds."""
    import collections

    with open(inputs[0]) as f:
        return dict(collections.Counter(len(line.strip()) for line in f if line.strip()))


@python_app
def merge(*counts: dict[int, int]) -> dict[int, int]:
    """Add up per-file counts."""
    total: collections.Counter[int] = collections.Counter()
    for c in counts:
        total.update(c)
    return dict(sorted(total.items()))


def main(n_files: int = 8) -> None:
    start = time.perf_counter()
    with plait.load() as dfk:
        texts = [make_text(i, outputs=[File(f"{dfk.run_dir}/text_{i}.txt")],
                           stdout=f"{dfk.run_dir}/make_text_{i}.out")
                 for i in range(n_files)]
        counts = [count_lengths(inputs=[t.outputs[0]]) for t in texts]
        total = merge(*counts).result(timeout=120)
        states = {s.name: n for s, n in dfk.task_state_counts.items() if n}
        run_dir = dfk.run_dir
    words = sum(total.values())
    print(f"plait {plait.__version__}: {len(texts) + len(counts) + 1} tasks "
          f"({n_files} bash, {n_files} python, 1 reduce) in {time.perf_counter() - start:.2f} s")
    print(f"task states: {states}")
    print(f"{words} words by length: {total}")
    print(f"files and the kernel log are in {run_dir}")
    if words != n_files * 1000:
        sys.exit(f"expected {n_files * 1000} words, counted {words}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
