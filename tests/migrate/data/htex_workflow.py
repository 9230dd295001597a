"""A Parsl workflow on the HighThroughputExecutor, in the style of Parsl's docs."""
import logging

import parsl
from parsl import python_app, join_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider
from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER

logging.getLogger("parsl").setLevel(logging.WARNING)

config = Config(
    executors=[
        HighThroughputExecutor(
            label="htex_local",
            max_workers_per_node=2,
            provider=LocalProvider(init_blocks=1, max_blocks=1),
        )
    ],
    retries=1,
    dependency_resolver=DEEP_DEPENDENCY_RESOLVER,  # add_all gets a list of futures
)


@python_app
def square(x, parsl_resource_specification={}):
    return x * x


@python_app
def add_all(numbers):
    return sum(numbers)


@join_app
def sum_of_squares(n):
    return add_all([square(i) for i in range(n)])


with parsl.load(config):
    futures = [square(i) for i in range(10)]
    print("squares:", [f.result() for f in futures])
    print("sum:", sum_of_squares(10).result())
    print("executor:", parsl.dfk().executors["htex_local"].label)
