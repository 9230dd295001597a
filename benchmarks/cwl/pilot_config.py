"""`plait cwl run --config` for the benchmark: the pilot executor, one local block of
$PLAIT_BENCH_WORKERS workers (default 2)."""

import os

from plait import Config, HighThroughputExecutor
from plait.providers import LocalProvider

config = Config(
    executors=[HighThroughputExecutor(
        label="pilot", max_workers_per_node=int(os.environ.get("PLAIT_BENCH_WORKERS", "2")),
        provider=LocalProvider(init_blocks=1, max_blocks=1))],
    run_dir=os.environ.get("PLAIT_BENCH_RUN_DIR", "/tmp/plait-cwl-bench/runinfo"),
    strategy="none", initialize_logging=False)
