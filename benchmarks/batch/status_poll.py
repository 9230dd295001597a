"""Cost of one status poll of 1,000 tracked Slurm jobs: scheduler commands run, parse time.

    python benchmarks/batch/status_poll.py [--jobs 1000] [--repeat 20]

A STAND-IN ``squeue`` (a shell script, in a temporary directory put first on PATH) prints
one ``%i|%T|%r`` row per job, as squeue(1) does for the format SlurmProvider asks for. The
provider tracks the jobs; each poll is timed whole, and minus the command, which is the
parsing and bookkeeping plait adds. Prints one JSON line (medians over --repeat polls).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from plait.providers import SlurmProvider
from plait.transport import LocalTransport


class TimedTransport(LocalTransport):
    """Counts commands and the time spent running them."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)
        self.commands = 0
        self.seconds = 0.0

    def run(self, cmd: str, timeout: float | None = None, env: dict[str, str] | None = None,
            stdin: bytes | None = None) -> tuple[int, str, str]:
        start = time.perf_counter()
        try:
            return super().run(cmd, timeout, env, stdin)
        finally:
            self.commands += 1
            self.seconds += time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="i15-poll-") as tmp:
        squeue = os.path.join(tmp, "squeue")
        with open(squeue, "w") as fh:  # prints a row for every id it is asked about
            fh.write('#!/bin/bash\nids="${@: -1}"; ids="${ids#--jobs=}"\n'
                     'for id in ${ids//,/ }; do echo "$id|RUNNING|None"; done\n')
        os.chmod(squeue, 0o755)
        transport = TimedTransport({"PATH": f"{tmp}:{os.environ['PATH']}"})
        provider = SlurmProvider(transport=transport, status_min_interval=0)
        ids = [str(1_000_000 + i) for i in range(args.jobs)]
        for job in ids:
            provider._track(job, f"plait.bench.{job}", f"{tmp}/{job}.submit")
        totals, parse, commands = [], [], []
        for _ in range(args.repeat):
            before_cmds, before_s = transport.commands, transport.seconds
            for job in ids:  # every job live again, so the poll asks about all of them
                provider.resources[job]["status"].state = provider.resources[job][
                    "status"].state.RUNNING
            start = time.perf_counter()
            statuses = provider.status(ids)
            total = time.perf_counter() - start
            assert all(s.state.name == "RUNNING" for s in statuses)
            totals.append(total)
            commands.append(transport.commands - before_cmds)
            parse.append(total - (transport.seconds - before_s))
    print(json.dumps({"benchmark": "status_poll", "jobs": args.jobs,
                      "commands_per_poll": statistics.median(commands),
                      "poll_ms": statistics.median(totals) * 1e3,
                      "parse_and_bookkeeping_ms": statistics.median(parse) * 1e3,
                      "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
