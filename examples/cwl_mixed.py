"""CWL tools and workflows mixed with Python apps in one plait script.

1. A Python app writes N small texts (its outputs are DataFutures).
2. The CWL tool `cwl/wordcount.cwl` counts the words of each text: one task per call,
   started as soon as that text exists.
3. The CWL workflow `cwl/vocabulary.cwl` scatters over all the texts (one task per text)
   and merges their word lists; its output File is a DataFuture for the next Python app.
4. Python apps add up the counts and read the vocabulary.

Run it with `python examples/cwl_mixed.py [N] [--pilot]` (needs `pip install 'plait[cwl]'`);
`--pilot` runs every job on the pilot executor (2 local workers) instead of threads.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import plait
from plait import Config, File, python_app
from plait.cwl import load_tool, load_workflow

HERE = Path(__file__).parent
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


@python_app
def write_text(index: int, outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    """A text of index + 3 words, taken round the word list from position index."""
    words = [WORDS[(index + i) % len(WORDS)] for i in range(index + 3)]
    Path(outputs[0]).write_text(" ".join(words) + "\n")


@python_app
def total(*counts: int) -> int:
    return sum(counts)


@python_app
def read_words(inputs: list[File] = ()) -> list[str]:  # type: ignore[assignment]
    return Path(inputs[0]).read_text().split()


def config(pilot: bool, run_dir: str) -> Config:
    if not pilot:
        return Config(run_dir=run_dir)
    from plait import HighThroughputExecutor
    from plait.providers import LocalProvider

    return Config(executors=[HighThroughputExecutor(
        max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))],
        run_dir=run_dir, strategy="none")


def main(n_texts: int = 6, pilot: bool = False) -> None:
    start = time.perf_counter()
    wordcount = load_tool(HERE / "cwl" / "wordcount.cwl")
    vocabulary = load_workflow(HERE / "cwl" / "vocabulary.cwl")
    with plait.load(config(pilot, "runinfo")) as dfk:
        texts = [write_text(i, outputs=[File(f"{dfk.run_dir}/text_{i}.txt")]).outputs[0]
                 for i in range(n_texts)]
        counts = [wordcount(text=t) for t in texts]          # a CWL tool per text
        words = total(*(c["count"] for c in counts))          # Python app on CWL outputs
        vocab_call = vocabulary(texts=texts)                  # a CWL workflow on all texts
        vocab = read_words(inputs=[vocabulary.files(vocab_call)["vocabulary"]])
        n_words, distinct = words.result(timeout=300), vocab.result(timeout=300)
        run_dir = dfk.run_dir
    expected = sum(i + 3 for i in range(n_texts))
    used = sorted({WORDS[(i + j) % len(WORDS)] for i in range(n_texts) for j in range(i + 3)})
    print(f"{n_texts} texts, {n_words} words, {len(distinct)} distinct: {' '.join(distinct)}")
    print(f"ran on {'the pilot executor' if pilot else 'threads'} in "
          f"{time.perf_counter() - start:.2f} s; files and logs are in {run_dir}")
    if n_words != expected or distinct != used:
        sys.exit(f"expected {expected} words, {len(used)} of them distinct")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--pilot"]
    main(int(args[0]) if args else 6, pilot="--pilot" in sys.argv)
