"""Task states and the only legal moves between them.

Names and integer values are Parsl's, so monitoring databases and scripts that compare
states keep working. ``cancelled`` (12) is plait's own: Parsl cannot cancel tasks, and so
are ``staging_in`` (13) and ``staging_out`` (14), the running states of the staging tasks
that fetch a task's input files and push its outputs (a task of their own in the graph;
a user task waits for them in ``pending``).

    pending ──▶ launched ──▶ exec_done
       │  │        │  └──▶ joining ──▶ exec_done | failed
       │  │        ├──▶ fail_retryable ──▶ pending (next try)
       │  │        └──▶ failed | cancelled
       │  ├──▶ memo_done | dep_fail | failed | cancelled | fail_retryable
       │  └──▶ staging_in | staging_out ──▶ exec_done | fail_retryable | failed | cancelled
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from plait._errors import InternalConsistencyError


class States(enum.IntEnum):
    """The state of a task in the DataFlowKernel (Parsl's names and values)."""

    pending = 0
    running = 2  # reported by monitoring; the kernel itself never moves a task here
    exec_done = 3
    failed = 4
    dep_fail = 5
    launched = 7
    fail_retryable = 8
    memo_done = 9
    joining = 10
    running_ended = 11  # reported by monitoring
    cancelled = 12
    staging_in = 13  # a staging task is fetching a file
    staging_out = 14  # a staging task is pushing a file

    def __str__(self) -> str:
        return f"States.{self.name}"


S = States

NEXT: Final[Mapping[States, frozenset[States]]] = {
    S.pending: frozenset({S.launched, S.memo_done, S.dep_fail, S.failed, S.cancelled,
                          S.fail_retryable, S.staging_in, S.staging_out}),
    S.launched: frozenset({S.joining, S.exec_done, S.fail_retryable, S.failed, S.cancelled}),
    S.joining: frozenset({S.exec_done, S.failed, S.fail_retryable}),
    S.staging_in: frozenset({S.exec_done, S.fail_retryable, S.failed, S.cancelled}),
    S.staging_out: frozenset({S.exec_done, S.fail_retryable, S.failed, S.cancelled}),
    S.fail_retryable: frozenset({S.pending}),
}

FINAL_STATES: Final = frozenset({S.exec_done, S.memo_done, S.failed, S.dep_fail, S.cancelled})
FINAL_FAILURE_STATES: Final = frozenset({S.failed, S.dep_fail, S.cancelled})
#: the states of a task its executor holds
EXECUTING_STATES: Final = frozenset({S.launched, S.staging_in, S.staging_out})

#: every state's legal next states (none for a final state): ``new in MOVES_FROM[old]`` is
#: the check each move makes, cheaper than building an (old, new) pair
MOVES_FROM: Final[Mapping[States, frozenset[States]]] = {
    state: NEXT.get(state, frozenset()) for state in States}


Story = tuple[tuple[str, str, str], ...]
"""A task's recent moves, oldest first: ``(old state, new state, why)`` by name."""


class InvalidTransition(InternalConsistencyError):
    """A task was asked to move between states where no move is declared (a plait bug).

    ``story`` holds the task's recent moves (from the kernel's journal), so that a report
    of the bug shows how the task got there.
    """

    def __init__(self, task_id: int, old: States, new: States, why: str,
                 story: Story = ()) -> None:
        super().__init__(task_id, old, new, why, story)
        self.task_id, self.old, self.new, self.why, self.story = task_id, old, new, why, story

    def __str__(self) -> str:
        text = (f"task {self.task_id}: illegal state change {self.old.name} -> "
                f"{self.new.name} ({self.why}); this is a plait bug, please report it "
                "with this message")
        if not self.story:
            return text + " (no earlier moves of this task are left in the kernel's journal)"
        moves = "".join(f"\n  {old} -> {new} ({why})" for old, new, why in self.story)
        return f"{text}. The task's recent moves, oldest first:{moves}"


def is_legal(old: States, new: States) -> bool:
    """Whether ``old -> new`` is a declared move."""
    return new in MOVES_FROM[old]
