"""Step 7 (5 min): watch a run. Turn monitoring on, run a few tasks (one fails), then ask
`plait summary` about the run: per-app counts and the failure."""

import subprocess
import sys

import plait
from plait import Config, MonitoringHub, python_app


@python_app
def task(i):
    if i == 7:
        raise ValueError("task 7 always fails")
    return i


# BEGIN SOLUTION
config = Config(monitoring=MonitoringHub(workflow_name="handson"))
# END SOLUTION
with plait.load(config):
    futures = [task(i) for i in range(10)]
    plait.wait_for_current_tasks()

summary = subprocess.run([sys.executable, "-m", "plait", "summary", "runinfo"],
                         capture_output=True, text=True, check=True).stdout
print(summary)
assert "task" in summary and "task 7 always fails" in summary, summary
print("step 7 OK: the run is in runinfo/monitoring.db")
