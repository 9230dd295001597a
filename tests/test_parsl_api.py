"""Every Parsl import path in tests/parsl_api.py resolves under plait, to the right kind of
object, and to the very object plait's flat exports give for the same name."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import plait.errors
from parsl_api import ALIASES, PATHS, PLAIT_ADDITIONS

ENTRIES = sorted((module, name, kind) for module, names in PATHS.items()
                 for name, kind in names.items())
#: the flat public faces: a name exported by one of them is the same object on every path
FLAT = ["plait", "plait.errors", "plait.executors", "plait.providers", "plait.launchers",
        "plait.data"]


def kind_of(obj: object) -> str:
    if inspect.isclass(obj):
        return "class"
    return "function" if callable(obj) else "constant"


def resolve(module: str, name: str) -> object:
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("module", "name", "kind"), ENTRIES,
                         ids=[f"{m}.{n}" for m, n, _ in ENTRIES])
def test_parsl_path_imports_with_its_kind(module: str, name: str, kind: str) -> None:
    assert kind_of(resolve(module, name)) == kind
    namespace: dict[str, object] = {}
    exec(f"from {module} import {name}", namespace)
    assert namespace[name] is resolve(module, name)


def flat_exports(name: str) -> list[object]:
    found = []
    for module in FLAT:
        mod = importlib.import_module(module)
        if name in mod.__all__:
            found.append(getattr(mod, name))
    return found


@pytest.mark.parametrize(("module", "name", "kind"), ENTRIES,
                         ids=[f"{m}.{n}" for m, n, _ in ENTRIES])
def test_path_is_the_same_object_as_the_flat_export(module: str, name: str,
                                                    kind: str) -> None:
    obj = resolve(module, name)
    alias = ALIASES.get((module, name))
    if alias is not None:
        home, _, attr = alias.rpartition(".")
        assert obj is resolve(home, attr)
    for flat in flat_exports(name):
        assert obj is flat, f"{module}.{name} is not the object plait exports flat"
    if kind == "class" and obj.__module__.startswith("plait.") and alias is None:
        assert obj.__name__ == name  # a flat re-export under its own name, not a copy


def test_every_path_is_in_the_table_or_is_private() -> None:
    """The table lists every public path module plait ships (new ones must be added)."""
    import pkgutil

    import plait

    public = set()
    for info in pkgutil.walk_packages(plait.__path__, "plait."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] in (
                "cli", "benchmark", "configs", "sites", "migrate", "cwl"):  # plait's own tools
            continue
        public.add(info.name)
    packages_only = {"plait.app", "plait.dataflow", "plait.data", "plait.data_provider",
                     "plait.executors.high_throughput", "plait.executors.flux",
                     "plait.executors.workqueue", "plait.executors.pilot", "plait.jobs",
                     "plait.logconfigs", "plait.monitoring.dashboard",
                     "plait.monitoring.radios", "plait.scaling", "plait.transport",
                     "plait.usage_tracking",
                     "plait.providers.local"} | {
        m.rsplit(".", 1)[0] for m in (*PATHS, *PLAIT_ADDITIONS)
        if m.startswith("plait.providers.")}
    assert public - set(PATHS) - set(PLAIT_ADDITIONS) - packages_only == set()


@pytest.mark.parametrize("module,names", sorted(PLAIT_ADDITIONS.items()))
def test_plait_additions_import_with_their_kinds(module: str, names: dict[str, str]) -> None:
    mod = importlib.import_module(module)
    for name, kind in names.items():
        assert kind == "class" and isinstance(getattr(mod, name), type), (module, name)


def test_not_shipped_executors_say_what_is_missing_and_what_to_use() -> None:
    from plait.executors import FluxExecutor, GlobusComputeExecutor, WorkQueueExecutor
    from plait.executors.radical import RadicalPilotExecutor
    from plait.executors.taskvine import TaskVineExecutor, TaskVineManagerConfig

    for cls, needs in [(WorkQueueExecutor, "Work Queue"), (TaskVineExecutor, "TaskVine"),
                       (FluxExecutor, "Flux"), (RadicalPilotExecutor, "RADICAL-Pilot"),
                       (GlobusComputeExecutor, "Globus Compute")]:
        with pytest.raises(plait.errors.OptionalModuleMissing) as info:
            cls(label="x", manager_config=TaskVineManagerConfig(port=9000))
        text = str(info.value)
        assert needs in text and "plait does not ship" in text and "Use " in text
        import pickle

        assert str(pickle.loads(pickle.dumps(info.value))) == text


def test_import_of_every_path_stays_lazy() -> None:
    """Importing the Parsl paths that need no ZeroMQ does not load it."""
    light = [m for m in PATHS if "high_throughput" not in m and m != "plait.executors"]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in light)
            + "print('zmq' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_representation_mixin_reads_like_the_constructor_call() -> None:
    """What Parsl's docs have users write for their own providers and launchers."""
    from plait.utils import RepresentationMixin

    class MyLauncher(RepresentationMixin):
        def __init__(self, command: str, *rest: str, debug: bool = True, tag: str = "t",
                     **extra: str) -> None:
            self.command, self.debug = command, debug  # tag is not kept

    assert repr(MyLauncher("srun", "x", tag="u")) == (
        "MyLauncher('srun', debug=True, tag='<unrecorded>')")


def test_error_handlers_take_parsl_threshold_argument() -> None:
    """Parsl's three handlers share ``(executor, status, threshold=3)``: a
    ``functools.partial(handler, threshold=N)`` passed as block_error_handler works."""
    import functools

    from plait.jobs.error_handlers import (
        noop_error_handler,
        simple_error_handler,
        windowed_error_handler,
    )

    for handler in (noop_error_handler, simple_error_handler, windowed_error_handler):
        assert inspect.signature(handler).parameters["threshold"].default == 3
        handler(object(), {}, threshold=5)  # no blocks: nothing to do, no TypeError
    from plait.executors import HighThroughputExecutor

    chosen = functools.partial(windowed_error_handler, threshold=5)
    assert HighThroughputExecutor(block_error_handler=chosen).block_error_handler is chosen
