"""Serializers chosen as in Parsl (``plait.serialize.facade.register_method_for_*``): what the
registering process sends is written by that method, and a worker reads it by the
identifier the payload carries, importing the method's module if it must."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from plait.errors import ConfigurationError, DeserializationError
from plait.serialize import deserialize, serialize
from plait.serialize._pack import pack_call, pack_value, unpack_call, unpack_value
from plait.serialize.concretes import PickleSerializer
from plait.serialize.errors import DeserializerPluginError
from plait.serialize.facade import (
    clear_methods,
    register_method_for_code,
    register_method_for_data,
)

ROOT = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def default_methods() -> Iterator[None]:
    yield
    clear_methods()


def test_registered_data_method_tags_what_it_writes() -> None:
    plain = serialize({"a": 1})
    register_method_for_data(PickleSerializer())
    tagged = serialize({"a": 1})
    assert tagged.startswith(b"\x00\x0201") and deserialize(tagged) == {"a": 1}
    frames = pack_call((1, bytes(1 << 17)), {"k": "v"})
    assert len(frames) == 1  # the method's own bytes, no out-of-band frames
    assert unpack_call([memoryview(f) for f in frames]) == ((1, bytes(1 << 17)), {"k": "v"})
    assert unpack_value(pack_value([3])) == [3]
    clear_methods()
    assert serialize({"a": 1}) == plain
    assert deserialize(tagged) == {"a": 1}  # a reader knows every method by its tag


def test_bad_methods_are_refused_or_named() -> None:
    with pytest.raises(ConfigurationError, match="3 is not a serializer"):
        register_method_for_data(3)  # type: ignore[arg-type]
    with pytest.raises(DeserializerPluginError, match=r"^Failed to deserialize: the payload "
                       r"was serialized by method b'no_such_module Thing', which cannot be "
                       r"loaded here \(ModuleNotFoundError.*make its module importable"):
        deserialize(b"\x00\x14no_such_module Thing" + b"body")
    with pytest.raises(DeserializerPluginError):
        unpack_value([b"\x00\x14no_such_module Thing"])
    error = DeserializerPluginError(b"m C", "why")
    assert isinstance(error, DeserializationError)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


SERIALIZER = '''
import os
import pickle

from plait.serialize.base import SerializerBase


class Logged(SerializerBase):
    """pickle, noting in $LOGGED_FILE which process read which payload."""

    def serialize(self, data):
        return pickle.dumps(data)

    def deserialize(self, body):
        value = pickle.loads(body)
        with open(os.environ["LOGGED_FILE"], "a") as f:
            f.write(f"{os.getpid()} {type(value).__name__}\\n")
        return value
'''

SCRIPT = '''
import os
import plait
from plait.config import Config
from plait.executors import HighThroughputExecutor
from plait.providers import LocalProvider
from plait.serialize.facade import register_method_for_code, register_method_for_data
from logged import Logged
import work

register_method_for_data(Logged())
register_method_for_code(Logged())
htex = HighThroughputExecutor(max_workers_per_node=1, provider=LocalProvider())
with plait.load(Config(executors=[htex], run_dir=os.environ["RUN_DIR"])):
    print(plait.python_app(work.scale)([1, 2], factor=3).result())
print("script", os.getpid())
'''


@pytest.mark.timeout(120)
def test_worker_reads_the_registered_methods_by_their_identifier(tmp_path: Path) -> None:
    (tmp_path / "logged.py").write_text(SERIALIZER)
    (tmp_path / "work.py").write_text("def scale(xs, factor):\n    return [x * factor for x "
                                      "in xs]\n")
    (tmp_path / "script.py").write_text(textwrap.dedent(SCRIPT))
    logged = tmp_path / "logged.txt"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT / 'src'}",
           "LOGGED_FILE": str(logged), "RUN_DIR": str(tmp_path / "runinfo")}
    out = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, env=env, text=True,
                         capture_output=True, timeout=100)
    assert out.returncode == 0, out.stderr
    result, script = out.stdout.splitlines()
    assert result == "[3, 6]"
    script_pid = script.split()[1]
    reads = [line.split() for line in logged.read_text().splitlines()]
    # the worker read the function and the arguments with Logged (found by its identifier,
    # b"logged Logged"); the result came back in the worker's default format
    assert {kind for pid, kind in reads if pid != script_pid} == {"function", "tuple"}
    assert all(pid != script_pid for pid, _ in reads)


def test_code_method_is_refused_like_the_data_method() -> None:
    with pytest.raises(ConfigurationError, match="register_method_for_code"):
        register_method_for_code(PickleSerializer)  # type: ignore[arg-type]


def test_callables_take_the_code_method_and_big_payloads_warn(
        caplog: pytest.LogCaptureFixture) -> None:
    """As Parsl's ``serialize``: callables by the code method, the rest by the data method;
    over ``buffer_threshold`` bytes only a warning."""
    register_method_for_code(PickleSerializer())
    assert serialize(len).startswith(b"\x00\x0201") and deserialize(serialize(len)) is len
    assert serialize([1]).startswith(b"\x80")  # no data method: plait's own format
    with caplog.at_level("WARNING", logger="plait.serialize._pack"):
        assert deserialize(serialize(bytes(2000), buffer_threshold=1000)) == bytes(2000)
    assert "over buffer_threshold=1000" in caplog.text
