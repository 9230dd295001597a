"""Remote data on the pilot executor: HTTP in, sandboxes on the workers, FTP out.

1. Each input is a File with an http:// URL. HTTPInTaskStaging fetches it on the worker
   that runs the task, into that task's sandbox (through the node's staging cache).
2. A bash app sorts the words of its input and a Python app counts them, in parallel,
   each task in a fresh sandbox under the workers' own directory; their outputs are
   ftp:// Files that FTPInTaskStaging uploads from the sandbox when the app is done.
3. A last task reads every count back over FTP and adds them up.

The submitting script never reads the workers' directory and the workers never read the
script's: files move only over HTTP and FTP. Run it with the test servers up
(``make services-up``):

    python examples/remote_data.py HTTP_BASE_URL FTP_BASE_URL WORKER_DIR NAME...

HTTP_BASE_URL/NAME are the inputs; results go to FTP_BASE_URL/results/.
"""

from __future__ import annotations

import sys
import time

import plait
from plait import Config, File, bash_app, python_app
from plait.data_provider.ftp import FTPInTaskStaging
from plait.data_provider.http import HTTPInTaskStaging
from plait.executors import HighThroughputExecutor
from plait.providers import LocalProvider


@bash_app
def sort_words(inputs: list[File] = (), outputs: list[File] = ()) -> str:
    """One word per line, sorted; runs in the task's sandbox (its cwd)."""
    return (f"tr -s '[:space:]' '\\n' < {inputs[0]} | sort > sorted.txt && "
            f"cp sorted.txt {outputs[0]}")


@python_app
def count_words(inputs: list[File] = (), outputs: list[File] = ()) -> int:
    """Count distinct words; write them with their counts, one per line."""
    import collections

    with open(inputs[0]) as f:
        counts = collections.Counter(w for w in f.read().split() if w)
    with open(outputs[0], "w") as out:
        out.writelines(f"{word} {n}\n" for word, n in sorted(counts.items()))
    return len(counts)


@python_app
def total(inputs: list[File] = ()) -> dict[str, int]:
    """Add up the per-file counts, read back over FTP."""
    import collections

    grand: collections.Counter[str] = collections.Counter()
    for f in inputs:
        with open(f) as fh:
            for line in fh:
                word, n = line.split()
                grand[word] += int(n)
    return dict(grand.most_common(3))


def config(worker_dir: str, run_dir: str = "runinfo") -> Config:
    """The pilot executor, its workers in ``worker_dir``, each task in a sandbox there."""
    pilot = HighThroughputExecutor(
        label="pilot", max_workers_per_node=2, working_dir=worker_dir, sandbox=True,
        storage_access=[HTTPInTaskStaging(), FTPInTaskStaging()],
        provider=LocalProvider(init_blocks=1, max_blocks=1))
    return Config(executors=[pilot], run_dir=run_dir, strategy="none")


def main(http_base: str, ftp_base: str, worker_dir: str, names: list[str]) -> None:
    start = time.perf_counter()
    with plait.load(config(worker_dir)):
        counts = []
        for name in names:
            sorted_file = sort_words(inputs=[File(f"{http_base}/{name}")],
                                     outputs=[File(f"{ftp_base}/results/{name}.sorted")])
            counts.append(count_words(inputs=[sorted_file.outputs[0]],
                                      outputs=[File(f"{ftp_base}/results/{name}.counts")]))
        distinct = [c.result(timeout=120) for c in counts]
        top = total(inputs=[c.outputs[0] for c in counts]).result(timeout=120)
    print(f"{len(names)} files staged in over HTTP, processed in sandboxes, out over FTP "
          f"in {time.perf_counter() - start:.1f} s")
    print("distinct words per file:", distinct)
    print("most common overall:", top)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
