"""Payloads that cannot cross a process boundary fail their own task, with the reason."""

from __future__ import annotations

import sys
import threading

import pytest
from pilot_tasks import add, return_unpicklable

from plait._errors import DeserializationError, SerializationError


@pytest.mark.timeout(60)
def test_unpicklable_argument_fails_at_submit(make_htex):
    ex, _ = make_htex()
    with pytest.raises(SerializationError, match="argument 1 \\(lock\\)"):
        ex.submit(add, {}, 1, threading.Lock())
    assert ex.outstanding == 0
    assert ex.submit(add, {}, 1, 2).result(timeout=30) == 3


@pytest.mark.timeout(60)
def test_unpicklable_result_fails_that_task(make_htex):
    ex, _ = make_htex()
    with pytest.raises(SerializationError, match="result \\(generator\\)"):
        ex.submit(return_unpicklable, {}).result(timeout=30)
    assert ex.submit(add, {}, 1, 2).result(timeout=30) == 3


@pytest.mark.timeout(60)
def test_function_not_importable_on_worker_fails_that_task(make_htex, tmp_path):
    mod_dir = tmp_path / "only_here"
    mod_dir.mkdir()
    (mod_dir / "plait_local_only_mod.py").write_text("def f(x):\n    return x * 2\n")
    sys.path.insert(0, str(mod_dir))
    try:
        import plait_local_only_mod

        ex, _ = make_htex()
        with pytest.raises(DeserializationError, match="plait_local_only_mod"):
            ex.submit(plait_local_only_mod.f, {}, 2).result(timeout=30)
        assert ex.submit(add, {}, 1, 2).result(timeout=30) == 3
    finally:
        sys.path.remove(str(mod_dir))
        sys.modules.pop("plait_local_only_mod", None)
