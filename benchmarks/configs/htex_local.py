"""plait-perf config: the pilot executor with one local block of 2 workers, no log file."""

from plait import Config, HighThroughputExecutor
from plait.providers import LocalProvider


def fresh_config() -> Config:
    return Config(executors=[HighThroughputExecutor(
        max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))],
        run_dir="/tmp/plait-perf", initialize_logging=False, strategy="none")
