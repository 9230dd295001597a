"""Step 6 (10 min): run again, redo only what failed. `analyse` fails for input 3 until the
file `fixed` exists. Make its results cached and checkpointed, so that the second run (after
the fix) takes the five earlier successes from the checkpoint and runs only input 3."""

import os

import plait
from plait import Config, python_app


# BEGIN SOLUTION
@python_app(cache=True)
# END SOLUTION
def analyse(x):
    if x == 3 and not os.path.exists("fixed"):
        raise ValueError("input 3 is bad")
    return x * 10


def run():
    # BEGIN SOLUTION
    config = Config(checkpoint_mode="task_exit", checkpoint_files=plait.get_all_checkpoints())
    # END SOLUTION
    with plait.load(config):
        futures = [analyse(i) for i in range(6)]
        plait.wait_for_current_tasks()
        return [f.task_record.status.name for f in futures]


first = run()
open("fixed", "w").close()
second = run()
assert first.count("failed") == 1, first
assert second == ["memo_done"] * 3 + ["exec_done"] + ["memo_done"] * 2, second
print(f"step 6 OK: the second run reused 5 results and ran 1: {second}")
