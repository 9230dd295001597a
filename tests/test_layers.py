"""The import graph of ``src/plait``: no cycles, and no import against DESIGN.md's layer order.

What counts as an import (read with ``ast``, nothing is executed):

- eager: an ``import``/``from … import`` that runs when the module is imported (module level,
  including under ``try``/``if`` and in class bodies);
- type-only: under ``if TYPE_CHECKING:``;
- lazy: inside a function (a package face's ``__getattr__``, an optional heavy part).

Both checks cover all three kinds. A type-only or lazy import cannot break at import time,
but it is still a dependency of the design: a record that names the kernel in its
annotations knows the kernel, and a module that imports its caller inside a function is
as knotted as one that does so at the top (the cycle this test was written against ran
through both). An upward import is wrong whenever it happens.

``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``.

Public-face modules (those that only re-export: docstring, imports, ``__all__``, a lazy
``__getattr__``; and the top-level faces ``plait``, ``plait.errors``, ``plait.utils``,
``plait.config``) may import from any layer, as DESIGN.md says. Importing a package's face
(``plait.providers``) counts as importing that package's layer; importing a top-level face
counts as importing the public layer.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# DESIGN.md's layers, bottom to top; a module may import its own layer and those below.
# Prefixes match whole dotted components; the longest matching prefix wins. A top-level
# private module (``plait._timer``) is a small shared utility: the base layer.
# One departure from DESIGN.md's drawing, on purpose: monitoring sits above dataflow. It
# consumes the kernel's events (TaskStateChanged, States, task records), while the kernel
# never imports it (it calls the Config's hub through start()/close()), which is what
# "monitoring is never required for a run" needs.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ()),  # plait._errors, plait._lightfuture, …: every top-level private module
    ("serialize", ("plait.serialize",)),
    ("transport", ("plait.transport",)),
    ("launchers", ("plait.launchers",)),
    ("providers", ("plait.providers",)),
    ("scaling", ("plait.scaling",)),
    ("executors", ("plait.executors",)),
    ("config", ("plait._config",)),
    ("data", ("plait.data", "plait.data_provider")),
    ("dataflow", ("plait.dataflow", "plait.usage_tracking")),  # the kernel runs the tracker
    ("monitoring", ("plait.monitoring",)),
    ("app", ("plait.app", "plait.concurrent")),
    ("sites", ("plait.sites", "plait.configs")),
    ("cwl", ("plait.cwl",)),
    ("public", ("plait",)),
    ("tools", ("plait.cli", "plait.dashboard", "plait.benchmark", "plait.__main__",
               "plait.migrate")),
]
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
TOP_FACES = ("plait", "plait.errors", "plait.utils", "plait.config")


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    kind: str  # "eager", "type-only" or "lazy"
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / "plait").rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(body: list[ast.AST], kind: str) -> Iterator[tuple[ast.AST, str]]:
    """Every import statement in ``body``, with its kind, through nested blocks."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, kind
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _walk(node.body, "lazy")
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk(node.body, "lazy" if kind == "lazy" else "type-only")
            yield from _walk(node.orelse, kind)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    yield from _walk([n for n in inner if isinstance(n, ast.AST)], kind)


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node, kind in _walk(list(tree.body), "eager"):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            assert isinstance(node, ast.ImportFrom)
            pkg = _absolute(module, path.name == "__init__.py", node)
            targets = [f"{pkg}.{a.name}" if f"{pkg}.{a.name}" in modules else pkg
                       for a in node.names]
        for target in targets:
            if target.split(".")[0] == "plait" and target != module:
                found.append(Import(module, target, kind, node.lineno))
    return found


def is_public_face(path: Path) -> bool:
    """Only a docstring, imports, ``__all__`` and a lazy ``__getattr__``: defines nothing."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                continue
        if isinstance(node, ast.FunctionDef) and node.name in ("__getattr__", "__dir__"):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            continue
        return False
    return True


def layer_of(module: str) -> str | None:
    """The layer LAYERS gives ``module``; None if it places it nowhere."""
    best, best_len = None, 0
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = name, len(prefix)
    if best == "public" and module != "plait":  # matched only by the bare "plait"
        parts = module.split(".")
        return "base" if len(parts) == 2 and parts[1].startswith("_") else None
    return best


def target_layer(target: str) -> str:
    """The layer an import of ``target`` reaches (a top-level or unplaced face: public)."""
    return "public" if target in TOP_FACES else layer_of(target) or "public"


@functools.cache
def graph() -> tuple[list[Import], set[str]]:
    """Every import between plait modules, and the set of public-face modules."""
    modules = all_modules()
    edges = [i for m, p in modules.items() for i in imports_of(m, p, modules)]
    faces = {m for m, p in modules.items() if is_public_face(p)} | set(TOP_FACES)
    return edges, faces


def find_cycles(edges: list[Import]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    succ: dict[str, set[str]] = {}
    for e in edges:
        succ.setdefault(e.source, set()).add(e.target)
        succ.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return components


def test_the_graph_is_read() -> None:
    edges, faces = graph()
    assert len(edges) > 100
    assert "plait.dataflow._states" in {
        e.target for e in edges if e.source == "plait.dataflow._kernel" and e.kind == "eager"}
    assert "plait.executors.pilot._executor" in {
        e.target for e in edges if e.source == "plait.executors" and e.kind == "lazy"}
    assert "plait" in faces and "plait.errors" in faces
    assert "plait.dataflow._kernel" not in faces


def test_no_import_cycles() -> None:
    edges, _ = graph()
    cycles = find_cycles(edges)
    detail = []
    for component in cycles:
        members = set(component)
        detail.append("\n".join(f"  {e.source}:{e.line} -> {e.target} ({e.kind})"
                                for e in edges
                                if e.source in members and e.target in members))
    assert not cycles, "import cycles:\n" + "\n\n".join(detail)


def test_imports_follow_the_layer_order() -> None:
    edges, faces = graph()
    wrong = []
    for e in edges:
        if e.source in faces:
            continue
        have, want = layer_of(e.source) or "public", target_layer(e.target)
        if RANK[want] > RANK[have]:
            wrong.append(f"  {e.source}:{e.line} ({have}) imports {e.target} ({want}), "
                         f"{e.kind}")
    assert not wrong, "imports against DESIGN.md's layer order:\n" + "\n".join(wrong)


def test_every_module_has_a_layer() -> None:
    """A new package must be placed in LAYERS (a re-export-only face needs no place)."""
    _, faces = graph()
    unplaced = sorted(m for m in all_modules() if m not in faces and layer_of(m) is None)
    assert not unplaced, (f"modules with no layer: {unplaced}; add their package to LAYERS "
                          "in tests/test_layers.py where DESIGN.md puts it")


@pytest.mark.parametrize("module,layer", [
    ("plait._errors", "base"), ("plait.executors.pilot._dispatch", "executors"),
    ("plait.dataflow._kernel", "dataflow"), ("plait.cli.commands", "tools"),
    ("plait._config", "config"), ("plait._timer", "base"),
    ("plait.monitoring._hub", "monitoring"), ("plait", "public"), ("plait.newpkg._x", None),
])
def test_layer_table(module: str, layer: str | None) -> None:
    assert layer_of(module) == layer


def test_the_checks_find_what_they_look_for() -> None:
    edges = [Import("a", "b", "eager", 1), Import("b", "c", "lazy", 2),
             Import("c", "a", "type-only", 3), Import("c", "d", "eager", 4)]
    assert find_cycles(edges) == [["a", "b", "c"]]
    assert find_cycles(edges[1:]) == []
    assert RANK[target_layer("plait.dataflow._kernel")] > RANK[target_layer("plait.executors")]
    assert target_layer("plait.errors") == "public"
