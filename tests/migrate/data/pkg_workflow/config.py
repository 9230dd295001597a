import importlib

from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor


def make_config(run_dir):
    # a module path built as a string, as plugin-style code does
    threads = importlib.import_module("parsl.executors.threads")
    assert threads.ThreadPoolExecutor is ThreadPoolExecutor
    return Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir)
