"""A Parsl script in the style of Parsl's user guide: a shipped config, bash apps and their
errors, caching and checkpoints, task records, the concurrent.futures interface."""
import os
import sys

import parsl
from parsl.app.app import bash_app, python_app
from parsl.app.errors import BashExitFailure
from parsl.concurrent import ParslPoolExecutor
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.configs.htex_local import config as htex_config
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints

run_dir = os.path.join(os.getcwd(), "runinfo")


@bash_app
def fails(stdout=parsl.AUTO_LOGNAME):
    return "echo about to fail; exit 3"


@python_app(cache=True)
def slow_double(x):
    return 2 * x


def cube(x):
    return x ** 3


htex_config.run_dir = run_dir
with parsl.load(htex_config) as dfk:
    try:
        fails().result()
    except BashExitFailure as e:
        print("bash app failed with exit code", e.exitcode)
    print("htex:", slow_double(21).result())

threads = Config(executors=[ThreadPoolExecutor(label="local_threads", max_threads=4)],
                 memoizer=BasicMemoizer(checkpoint_mode="task_exit"), run_dir=run_dir)
with parsl.load(threads) as dfk:
    fut = slow_double(4)
    print("cached:", fut.result(), slow_double(4).result())
    record = fut.task_record
    print("record:", record["func_name"], "id" in record, sorted(record)[:3])
parsl.clear()

checkpoints = get_all_checkpoints(run_dir)
print("checkpoints:", len(checkpoints) >= 1)
with parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=run_dir,
                       memoizer=BasicMemoizer(checkpoint_files=checkpoints))):
    again = slow_double(4)
    print("from checkpoint:", again.result(), again.task_record["from_memo"])

with ParslPoolExecutor(Config(executors=[ThreadPoolExecutor(max_threads=2)],
                              run_dir=run_dir)) as pool:
    print("pool map:", list(pool.map(cube, range(4))))
print("python", sys.version_info[0])
