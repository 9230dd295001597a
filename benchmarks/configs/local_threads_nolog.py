"""plait-perf config: the thread pool with 2 threads, no log file."""

from plait import Config, ThreadPoolExecutor


def fresh_config() -> Config:
    return Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir="/tmp/plait-perf",
                  initialize_logging=False)
