"""What crosses from the monitored script to the database process: record layouts and framing.

    script: Recorder (kernel events) ─┐
            executors' radios ─────────┼─▶ Sender thread ══ pipe (frames) ══▶ database process
    script ◀══ pipe (JSON lines: ready, warnings, flushed) ══ database process

A frame is a 4-byte little-endian length and a ``marshal``-encoded list of records. Records
are plain tuples of ints, floats, strings and None, whose first item is the kind below;
marshal encodes those about ten times faster than pickle, and both ends run the same Python
(the database process is started with the script's own interpreter).
"""

from __future__ import annotations

import marshal
import struct
from typing import Any

# Kinds (first item of a record) and their layouts.
WORKFLOW = 0
"""(WORKFLOW, run_id, name, version, time_began, host, user, rundir, script, argv, cwd,
    retry_of, pid, python, plait_version, executors)"""
TASK = 1
"""(TASK, task_id, func_name, time_invoked, executor, memoize, depends, stdout, stderr,
    inputs, outputs, args, walltime)  -- a submission; also records the first `pending`"""
STATE = 2
"""(STATE, task_id, state, time, try_id)  -- a non-final state change"""
FINAL = 3
"""(FINAL, task_id, state, time, try_id, fail_count, fail_cost, hashsum, joins)"""
FAILURE = 4
"""(FAILURE, task_id, try_id, time, exception_type, message, traceback, root_cause_task)"""
RESOURCE = 5
"""(RESOURCE, task_id, try_id, time, interval, hostname, block_id, pid, memory_percent,
    children, time_user, time_system, memory_virtual, memory_resident, disk_read,
    disk_write, status, cpu_num, ctx_voluntary, ctx_involuntary)"""
NODE = 6
"""(NODE, time, executor, hostname, uid, block_id, cpu_count, total_memory, active,
    worker_count, python_v)"""
BLOCK = 7
"""(BLOCK, time, executor, block_id, job_id, status)"""
WORKFLOW_END = 8
"""(WORKFLOW_END, time_completed, tasks_completed, tasks_failed, outcome, dropped)"""
FLUSH = 9
"""(FLUSH, token)  -- commit everything before this, then answer {"flushed": token}"""

_LEN = struct.Struct("<I")
HEADER = _LEN.size


def encode(records: list[tuple[Any, ...]]) -> bytes:
    """One frame holding ``records``."""
    body = marshal.dumps(records)
    return _LEN.pack(len(body)) + body


def frame_length(header: bytes | bytearray | memoryview) -> int:
    """The body length announced by a frame's header."""
    return int(_LEN.unpack(header)[0])


def decode(body: bytes | bytearray | memoryview) -> list[tuple[Any, ...]]:
    """The records of one frame body."""
    records: list[tuple[Any, ...]] = marshal.loads(body)
    return records
