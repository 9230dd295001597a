"""The task record: everything the kernel knows about one app invocation."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from plait._lightfuture import LightFuture
from plait.dataflow._states import States


@dataclass(slots=True)
class TryRecord:
    """One attempt at running a task."""

    try_id: int
    executor: str
    time_launched: float
    time_returned: float | None = None
    exception: BaseException | None = None

    @property
    def infrastructure(self) -> bool:
        """Whether this try was lost with a worker, manager or block, not by the task's code."""
        from plait.executors._errors import InfrastructureError

        return isinstance(self.exception, InfrastructureError)


@dataclass(slots=True, eq=False)
class Task:
    """A task record. The kernel drops its reference once the task reaches a final state;
    the AppFuture keeps it, so ``fut.task_record`` stays readable.

    A record knows nothing above it: its ``future`` is the AppFuture (typed by its base, so
    this module does not import the futures module), and it holds no kernel reference.
    """

    id: int
    func_name: str
    func: Callable[..., Any]
    args: tuple[Any, ...] | None
    kwargs: dict[str, Any] | None
    executor: str
    cache: bool = False
    ignore_for_cache: tuple[str, ...] = ()
    join: bool = False
    resource_specification: dict[str, Any] | None = None
    state: States = States.pending
    launch_state: States = States.launched  # staging tasks: staging_in or staging_out
    future: LightFuture[Any] | None = None  # the AppFuture, until the task is final
    depends: list[Future[Any]] | None = None
    waiting: int = 0
    try_id: int = 0
    fail_count: int = 0
    fail_cost: float = 0.0
    infra_fail_count: int = 0
    failed_tries: list[TryRecord] | None = None
    try_time_launched: float | None = None
    try_time_returned: float | None = None
    hashsum: str | None = None
    from_memo: bool = False
    time_invoked: float = 0.0
    time_returned: float | None = None
    exec_future: Future[Any] | None = None
    joins: Future[Any] | list[Future[Any]] | None = None  # as a join app body returned them
    blocked_by: tuple[int, ...] | None = None  # dep_fail: ids of the failures behind it
    outputs: list[Any] | None = None
    stdout: Any = None
    stderr: Any = None

    @property
    def status(self) -> States:
        """Parsl's name for ``state``."""
        return self.state

    @property
    def tries(self) -> list[TryRecord]:
        """Every try so far, oldest first: the failed ones, then the current one if any."""
        records = list(self.failed_tries or ())
        if self.try_time_launched is not None and (
            not records or records[-1].try_id != self.try_id
        ):
            records.append(TryRecord(self.try_id, self.executor, self.try_time_launched,
                                     self.try_time_returned))
        return records

    def record_failed_try(self, exception: BaseException) -> None:
        """Keep the current try, which just failed, in the history."""
        record = TryRecord(self.try_id, self.executor, self.try_time_launched or 0.0,
                           self.try_time_returned, exception)
        if self.failed_tries is None:
            self.failed_tries = [record]
        else:
            self.failed_tries.append(record)

    @property
    def fail_history(self) -> list[str]:
        """``repr`` of the exception of every failed try so far (Parsl's field)."""
        return [repr(t.exception) for t in self.failed_tries or ()]

    def describe(self) -> str:
        """``task 12 (my_app)``: how messages name this task."""
        return f"task {self.id} ({self.func_name})"

    # -- a read-only Mapping with Parsl's keys (Parsl's record is a dict) -----------------
    def __getitem__(self, key: str) -> Any:
        """Dict-style access for scripts written against Parsl's dict task record."""
        try:
            return getattr(self, _ALIASES.get(key, key))
        except (AttributeError, TypeError):
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(PARSL_KEYS)

    def __len__(self) -> int:
        return len(PARSL_KEYS)

    def __contains__(self, key: object) -> bool:
        return key in PARSL_KEYS

    def keys(self) -> KeysView[str]:
        return KeysView(self)

    def values(self) -> ValuesView[Any]:
        return ValuesView(self)

    def items(self) -> ItemsView[str, Any]:
        return ItemsView(self)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in PARSL_KEYS else default


#: the keys of Parsl's task record that plait's has (not Parsl's locks or its ``dfk``)
PARSL_KEYS = (
    "id", "func", "func_name", "args", "kwargs", "status", "try_id", "fail_count",
    "fail_cost", "fail_history", "executor", "depends", "hashsum", "memoize", "from_memo",
    "join", "joins", "app_fu", "exec_fu", "resource_specification", "time_invoked",
    "time_returned", "try_time_launched", "try_time_returned", "ignore_for_cache",
)
_ALIASES = {"status": "state", "app_fu": "future", "exec_fu": "exec_future",
            "memoize": "cache"}
Mapping.register(Task)
