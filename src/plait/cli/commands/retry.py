"""``plait retry RUN --failed``: run a monitored run's script again so that only what failed
(and what depended on it) runs, with the app code as it is now.

Every task that succeeded is a memo hit from the earlier runs' checkpoints (plait loads them
from the base run directory), so the run needs apps with ``cache=True`` and a
``checkpoint_mode``; the script runs in its original working directory with its original
arguments, and the new run records which run it retries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from plait.cli.commands._run_args import add_run_arguments

HELP = "Re-run a monitored run's failed tasks (and their dependents), reusing every success."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)
    parser.add_argument("--failed", action="store_true", required=True,
                        help="re-run the failed tasks and what depended on them")
    parser.add_argument("--force", action="store_true",
                        help="run again even if the run wrote no checkpoint (then every task "
                             "runs again)")


def run(args: argparse.Namespace) -> int:
    from plait.dataflow._checkpoint import CHECKPOINT_DIR
    from plait.monitoring import _queries as Q
    from plait.monitoring._errors import MonitoringDatabaseError
    from plait.monitoring._session import RETRY_OF_ENV

    with Q.reader(args.target) as engine, engine.connect() as conn:
        found = Q.find_run(conn, args.target, args.run)
        failed = Q.failures(conn, found.run_id)
    if not failed:
        print(f"run {found.run_id} has no failed task: nothing to retry", file=sys.stderr)
        return 0
    if not found.script or not os.path.exists(found.script):
        raise MonitoringDatabaseError(args.target, f"the script of run {found.run_id} "
                                      f"({found.script}) is gone; run it yourself")
    checkpoint = os.path.join(found.rundir, CHECKPOINT_DIR)
    succeeded = found.totals.get("exec_done", 0)
    if succeeded and not os.path.isdir(checkpoint) and not args.force:
        raise MonitoringDatabaseError(
            args.target, f"run {found.run_id} wrote no checkpoint ({checkpoint}), so its "
            f"{succeeded} successful tasks would run again: give its apps cache=True and its "
            "Config a checkpoint_mode (e.g. 'task_exit'), or pass --force")
    argv = json.loads(found.argv) if found.argv else [found.script]
    command = [sys.executable, found.script, *argv[1:]]
    roots = sum(1 for f in failed if f.state != "dep_fail")
    print(f"retrying run {found.run_id}: {roots} failed, {len(failed) - roots} blocked; "
          f"running {' '.join(command)} in {found.cwd or os.getcwd()}", file=sys.stderr)
    env = {**os.environ, RETRY_OF_ENV: found.run_id}
    return subprocess.call(command, cwd=found.cwd or None, env=env)
