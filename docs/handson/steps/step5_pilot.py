"""Step 5 (10 min): scale out. Run the same app on worker processes: a HighThroughputExecutor
with two workers in one local block (LocalProvider). The apps do not change; only the
config does. On a cluster you would swap LocalProvider for SlurmProvider and friends."""

import os

import plait
from plait import Config, HighThroughputExecutor, python_app
from plait.providers import LocalProvider


@python_app
def which_process(_):
    import os
    return os.getpid()


# BEGIN SOLUTION
config = Config(executors=[HighThroughputExecutor(
    label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))])
# END SOLUTION
with plait.load(config):
    pids = {which_process(i).result() for i in range(20)}

assert os.getpid() not in pids, "the tasks ran in this process: use the pilot executor"
assert 1 <= len(pids) <= 2, pids
print(f"step 5 OK: 20 tasks ran in worker processes {sorted(pids)}")
