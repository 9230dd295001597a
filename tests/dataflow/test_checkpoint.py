"""Checkpoints: each mode, both config forms, loading earlier runs, damage and odd results."""

from __future__ import annotations

import collections
import os
import pickle
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

import plait
from kernels import kernel
from plait import Config, python_app
from plait.dataflow._checkpoint import MAGIC, CheckpointWriter, frame, scan
from plait.dataflow.dflow import DataFlowKernel
from plait.dataflow.memoization import BasicMemoizer, CheckpointWarning
from plait.dataflow.states import States
from plait.errors import BadCheckpoint, ConfigurationError
from plait.utils import get_all_checkpoints, get_last_checkpoint
from waiting import wait_until

# an unexpected checkpoint warning is a failure (the tests that expect one use pytest.warns)
pytestmark = pytest.mark.filterwarnings("error::plait.dataflow.memoization.CheckpointWarning")

RUNS: collections.Counter[Any] = collections.Counter()
_LOCK = threading.Lock()
VALUE = [1]


@pytest.fixture(autouse=True)
def _reset() -> None:
    RUNS.clear()
    VALUE[0] = 1


@python_app(cache=True)
def double(x: int) -> int:
    with _LOCK:
        RUNS[x] += 1
    return 2 * x


@python_app(cache=True)
def current(key: str) -> int:
    return VALUE[0]


@python_app(cache=True)
def fails(x: int) -> int:
    with _LOCK:
        RUNS["fails"] += 1
    raise RuntimeError("no")


@python_app(cache=True)
def make_lock(x: int) -> Any:
    return threading.Lock()


@python_app(cache=True)
def make_lambda(x: int) -> Any:
    return lambda: x + 100


def store(dfk: DataFlowKernel) -> Path:
    return Path(dfk.run_dir) / "checkpoint" / "tasks.ckpt"


def records(path: Path) -> list[str]:
    return [key for key, _, _ in scan(str(path))] if path.exists() else []


def run_doubles(xs: range) -> list[int]:
    futs = [double(x) for x in xs]
    return [f.result(timeout=30) for f in futs]


def wait_for_records(path: Path, count: int) -> list[str]:
    # nothing signals a file write to the test
    wait_until(lambda: len(records(path)) >= count, 20, f"{count} records in {path}")
    return records(path)


def test_task_exit_writes_each_result_before_cleanup(run_dir: str) -> None:
    with kernel(run_dir, checkpoint_mode="task_exit") as dfk:
        futs = [double(x) for x in range(5)]
        for f in futs:
            f.result(timeout=30)
        found = wait_for_records(store(dfk), 5)  # written on their own, by the writer thread
        assert sorted(found) == sorted(f.task_record.hashsum for f in futs)
        more = [double(x) for x in range(5, 10)]
        for f in more:
            f.result(timeout=30)
        assert dfk.checkpoint() == 0  # nothing pending: it only waits for the writer
        assert len(records(store(dfk))) == 10


def test_dfk_exit_writes_at_cleanup_only(run_dir: str) -> None:
    with kernel(run_dir, checkpoint_mode="dfk_exit") as dfk:
        run_doubles(range(4))
        assert records(store(dfk)) == []
    assert len(records(store(dfk))) == 4


@pytest.mark.parametrize("form", ["old", "new"])
def test_manual_checkpoint_in_both_config_forms(run_dir: str, form: str) -> None:
    options: dict[str, Any] = (
        {"checkpoint_mode": "manual"} if form == "old"
        else {"memoizer": BasicMemoizer(checkpoint_mode="manual")})
    with kernel(run_dir, **options) as dfk:
        run_doubles(range(3))
        assert records(store(dfk)) == []
        assert dfk.checkpoint() == 3
        assert len(records(store(dfk))) == 3
        run_doubles(range(3, 5))
        assert dfk.memoizer is not None and dfk.memoizer.checkpoint() == 2
        assert dfk.checkpoint() == 0
        double(9).result(timeout=30)
    assert len(records(store(dfk))) == 6  # cleanup flushed the last one
    with kernel(run_dir, **options):
        futs = [double(x) for x in (*range(5), 9)]
        assert [f.result(timeout=30) for f in futs] == [0, 2, 4, 6, 8, 18]
        assert all(f.task_record.state is States.memo_done for f in futs)
    assert sum(RUNS.values()) == 6


def test_periodic_checkpoints_on_its_timer(run_dir: str) -> None:
    with kernel(run_dir, checkpoint_mode="periodic", checkpoint_period="00:00:01") as dfk:
        run_doubles(range(3))
        wait_for_records(store(dfk), 3)
        threads = [t.name for t in threading.enumerate()]
        assert any(n.startswith("plait-checkpoint-timer-") for n in threads)
    # the timer and the writer thread are both gone after cleanup
    assert not any(t.name.startswith("plait-checkpoint-") for t in threading.enumerate())


def test_no_mode_writes_nothing(run_dir: str) -> None:
    with kernel(run_dir) as dfk:
        run_doubles(range(3))
        assert dfk.checkpoint() == 0
    assert not (Path(dfk.run_dir) / "checkpoint").exists()
    assert get_all_checkpoints(run_dir) == []


@pytest.mark.parametrize("form", ["old", "new"])
def test_next_run_loads_every_earlier_run(run_dir: str, form: str) -> None:
    def options() -> dict[str, Any]:
        return ({"checkpoint_mode": "task_exit"} if form == "old"
                else {"memoizer": BasicMemoizer(checkpoint_mode="task_exit")})

    with kernel(run_dir, **options()):
        run_doubles(range(0, 3))
    with kernel(run_dir, **options()):
        run_doubles(range(3, 6))
    assert len(get_all_checkpoints(run_dir)) == 2
    with kernel(run_dir, **options()):
        futs = [double(x) for x in range(7)]
        assert [f.result(timeout=30) for f in futs] == [0, 2, 4, 6, 8, 10, 12]
        assert [f.task_record.state for f in futs] == [States.memo_done] * 6 + [
            States.exec_done]
    assert dict(RUNS) == {x: 1 for x in range(7)}


def test_later_runs_override_earlier_records(run_dir: str) -> None:
    with kernel(run_dir, checkpoint_mode="task_exit"):
        assert current("k").result(timeout=30) == 1
    VALUE[0] = 2
    with kernel(run_dir, checkpoint_mode="task_exit", checkpoint_files=[]):
        assert current("k").result(timeout=30) == 2  # nothing loaded: runs again
    VALUE[0] = 3
    with kernel(run_dir, checkpoint_mode="task_exit"):
        fut = current("k")
        assert fut.result(timeout=30) == 2
        assert fut.task_record.state is States.memo_done


def test_explicit_checkpoint_files_from_another_base(tmp_path: Path) -> None:
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    with kernel(first, checkpoint_mode="dfk_exit"):
        run_doubles(range(3))
    found = get_last_checkpoint(first)
    assert found == [os.path.abspath(os.path.join(first, "000", "checkpoint"))]
    with kernel(second, checkpoint_files=found):  # loading needs no checkpoint_mode
        futs = [double(x) for x in range(3)]
        assert all(f.result(timeout=30) is not None for f in futs)
        assert all(f.task_record.state is States.memo_done for f in futs)
    with pytest.raises(BadCheckpoint, match="does not exist"):
        plait.load(Config(run_dir=second, checkpoint_files=[str(tmp_path / "nowhere")]))
    plait.clear()


def test_failed_tasks_are_not_checkpointed(run_dir: str) -> None:
    for expected in (1, 0):  # the second run hits double(1) and has nothing new to write
        with kernel(run_dir, checkpoint_mode="task_exit") as dfk:
            with pytest.raises(RuntimeError):
                fails(1).result(timeout=30)
            assert double(1).result(timeout=30) == 2
        assert len(records(store(dfk))) == expected
    assert RUNS["fails"] == 2 and RUNS[1] == 1


def test_truncated_store_warns_with_offset_and_keeps_earlier_records(run_dir: str) -> None:
    with kernel(run_dir, checkpoint_mode="task_exit") as dfk:
        run_doubles(range(5))
    path = store(dfk)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - 3)  # the tail of the last record is gone, as after a kill -9
    with pytest.warns(CheckpointWarning, match=rf"{path}.* at byte \d+: the last record is "
                                               "truncated"), kernel(run_dir,
                                                                    checkpoint_mode="task_exit"):
        run_doubles(range(5))
    assert sorted(RUNS.values()) == [1, 1, 1, 1, 2]


def test_corrupt_record_keeps_the_records_before_it(run_dir: str) -> None:
    with kernel(run_dir, checkpoint_mode="dfk_exit") as dfk:
        run_doubles(range(4))
    path = store(dfk)
    offsets = [ref.offset for _, ref, _ in scan(str(path))]
    data = bytearray(path.read_bytes())
    data[offsets[2] + 1] ^= 0xFF  # flip a byte inside the third result
    path.write_bytes(bytes(data))
    with pytest.warns(CheckpointWarning, match=r"at byte \d+: a record fails its CRC"), \
            kernel(run_dir, checkpoint_mode="task_exit"):
        run_doubles(range(4))
    assert sum(RUNS.values()) == 4 + 2


def test_foreign_file_is_rejected_with_a_warning(run_dir: str, tmp_path: Path) -> None:
    bogus = tmp_path / "tasks.pkl"
    bogus.write_bytes(b"\x80\x05not ours")
    with pytest.warns(CheckpointWarning, match="does not start with the plait checkpoint"), \
            kernel(run_dir, checkpoint_files=[str(bogus)]):
        assert double(1).result(timeout=30) == 2


def test_parsl_checkpoint_directory_is_named_in_a_warning(run_dir: str,
                                                          tmp_path: Path) -> None:
    parsl_dir = tmp_path / "parsl" / "000" / "checkpoint"
    parsl_dir.mkdir(parents=True)
    (parsl_dir / "tasks.pkl").write_bytes(b"\x80\x05N.")
    with pytest.warns(CheckpointWarning, match="holds a Parsl checkpoint"), \
            kernel(run_dir, checkpoint_files=[str(parsl_dir)]):
        assert double(2).result(timeout=30) == 4


def test_record_that_cannot_be_unpickled_runs_the_task_again(run_dir: str,
                                                            tmp_path: Path) -> None:
    with kernel(run_dir, checkpoint_mode="task_exit") as dfk:
        key = double(1)
        key.result(timeout=30)
    hashsum = key.task_record.hashsum
    assert hashsum is not None
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "tasks.ckpt").write_bytes(b"PLAITCK\x01" + frame(hashsum, b"\x80\x05garbage"))
    with pytest.warns(CheckpointWarning, match="runs again: cannot load the result"), \
            kernel(run_dir, checkpoint_files=[str(Path(dfk.run_dir) / "checkpoint"),
                                              str(bad)]):
        assert double(1).result(timeout=30) == 2
    assert RUNS[1] == 2


def test_unpicklable_result_warns_once_and_the_task_still_succeeds(run_dir: str) -> None:
    with pytest.warns(CheckpointWarning) as caught, \
            kernel(run_dir, checkpoint_mode="task_exit") as dfk:
        locks = [make_lock(i) for i in range(3)]
        assert all(hasattr(f.result(timeout=30), "acquire") for f in locks)
        fn = make_lambda(1)
        assert fn.result(timeout=30)() == 101
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "make_lock" in messages[0]
    assert "cannot be pickled" in messages[0] and "succeeded" in messages[0]
    assert len(records(store(dfk))) == 1  # only the lambda (by value, via cloudpickle)
    with kernel(run_dir, checkpoint_mode="task_exit"):
        again = make_lambda(1)
        assert again.result(timeout=30)() == 101
        assert again.task_record.state is States.memo_done


def test_memoize_false_loads_and_writes_nothing(run_dir: str) -> None:
    with kernel(run_dir, checkpoint_mode="task_exit"):
        run_doubles(range(2))
    memo = BasicMemoizer(checkpoint_mode="task_exit", memoize=False)
    with kernel(run_dir, memoizer=memo) as dfk:
        run_doubles(range(2))
    assert not store(dfk).exists()
    assert RUNS == {0: 2, 1: 2}


def test_checkpoint_helpers_order_runs_numerically(tmp_path: Path) -> None:
    base = tmp_path / "runinfo"
    for name in ("000", "999", "1000", "002", "notes"):
        (base / name / "checkpoint").mkdir(parents=True)
    (base / "003").mkdir()  # a run that checkpointed nothing
    found = get_all_checkpoints(str(base))
    assert [Path(p).parent.name for p in found] == ["000", "002", "999", "1000"]
    assert get_last_checkpoint(str(base)) == [str(base / "1000" / "checkpoint")]
    assert get_all_checkpoints(str(tmp_path / "missing")) == []
    assert get_last_checkpoint(str(tmp_path / "missing")) == []


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"checkpoint_mode": "periodic"}, "checkpoint_period"),
    ({"checkpoint_mode": "periodic", "checkpoint_period": "1 hour"}, "checkpoint_period"),
    ({"checkpoint_mode": "periodic", "checkpoint_period": "00:00:00"}, "checkpoint_period"),
    ({"checkpoint_mode": "sometimes"}, "checkpoint_mode"),
    ({"checkpoint_files": "runinfo/000/checkpoint"}, "checkpoint_files"),
])
def test_bad_memoizer_settings_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        BasicMemoizer(**kwargs)


def test_old_and_new_forms_cannot_be_mixed(run_dir: str) -> None:
    config = Config(run_dir=run_dir, checkpoint_mode="task_exit",
                    memoizer=BasicMemoizer())
    with pytest.raises(ConfigurationError, match="checkpoint_mode"):
        plait.load(config)
    plait.clear()


def test_writer_keeps_every_record_from_concurrent_threads(tmp_path: Path) -> None:
    writer = CheckpointWriter(str(tmp_path / "checkpoint"))
    per_thread, threads = 1500, 6

    def produce(t: int) -> None:
        for i in range(per_thread):
            assert writer.append(frame(f"{t:02d}{i:030d}", pickle.dumps((t, i))))
            if i % 500 == 0:
                assert writer.flush(timeout=30)

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert writer.flush(timeout=30)
    writer.close()
    assert not writer.append(frame("x" * 32, b"late"))  # refused once closed
    found = {key: pickle.loads(data) for key, _, data in scan(writer.path)}
    assert len(found) == per_thread * threads
    assert all(found[f"{t:02d}{i:030d}"] == (t, i) for t in range(threads)
               for i in range(per_thread))
    assert not any(t.name.startswith("plait-checkpoint-writer") for t in threading.enumerate())


def test_a_store_cut_at_any_byte_loads_exactly_the_whole_records(tmp_path: Path) -> None:
    writer = CheckpointWriter(str(tmp_path / "checkpoint"))
    for i in range(4):
        writer.append(frame(f"{i:032d}", pickle.dumps("v" * i)))
    writer.close()
    data = Path(writer.path).read_bytes()
    ends = [ref.offset + ref.length for _, ref, _ in scan(writer.path)]
    cut_file = tmp_path / "cut.ckpt"
    for cut in range(len(data) + 1):  # every point a kill -9 could stop a write
        cut_file.write_bytes(data[:cut])
        whole = sum(1 for end in ends if end <= cut)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = [pickle.loads(d) for _, _, d in scan(str(cut_file))]
        assert loaded == ["v" * i for i in range(whole)]
        assert bool(caught) == (cut > len(MAGIC) and cut not in ends), cut
