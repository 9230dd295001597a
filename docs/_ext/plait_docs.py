"""Pages generated from plait itself, written into ``docs/generated/`` before each build.

- ``api/*.rst``: the reference of every public module, from its ``__all__`` and docstrings
  (each object documented once, at its first module in API_MODULES; later modules link there);
- ``sites/*.md``: one page per shipped site-registry entry, and their index;
- ``troubleshooting.md``: every class of ``plait.errors``, from its docstring and the
  advice in ``docs/troubleshooting.toml`` (a class without advice fails the build);
- ``migration_table.md``: the differences from Parsl, from ``plait.migrate.FEATURES``;
- ``cli.md``: ``plait --help`` and every subcommand's help, from the real parser;
- ``handson/step*.py``: the hands-on exercises, from the solutions in ``docs/handson/steps``.

References to an object by its private path (``plait._config.Config``, as annotations name
it) are resolved to the page that documents it under its public name.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent
OUT = DOCS / "generated"

#: The public modules, in the order their names are claimed (first one documents a name).
API_MODULES = (
    "plait", "plait.errors", "plait.executors", "plait.providers", "plait.launchers",
    "plait.data", "plait.data_provider.data_manager", "plait.data_provider.file_noop",
    "plait.data_provider.http", "plait.data_provider.ftp", "plait.data_provider.rsync",
    "plait.data_provider.zip", "plait.data_provider.s3", "plait.data_provider.globus",
    "plait.sites", "plait.cwl", "plait.monitoring", "plait.monitoring.radios",
    "plait.concurrent", "plait.migrate", "plait.logconfigs", "plait.usage_tracking",
    "plait.utils", "plait.dataflow.memoization",
)

#: Classes not exported anywhere whose instances public calls take or return: documented
#: on one page under their own paths, so that the signatures naming them resolve.
SIGNATURE_TYPES = (
    "plait.app._decorators.PythonApp", "plait.app._decorators.BashApp",
    "plait._lightfuture.LightFuture", "plait.dataflow._task.Task",
    "plait.dataflow._task.TryRecord", "plait.data._staging.DataManagerAPI",
    "plait.data._manager.StagedTask", "plait.data._intask.Mover",
    "plait.transport._base.Transport", "plait.executors._blocks.TaskCount",
    "plait.monitoring.radios._radios.Receiver", "plait.sites._schema.Checked",
    "plait.sites._schema.Component", "plait.migrate._source.Change",
)

_documented: dict[int, str] = {}  # id(object) -> the public dotted name that documents it


def public_names(module_name: str) -> list[tuple[str, Any]]:
    """``(name, object)`` for each name in the module's ``__all__``, sorted."""
    module = importlib.import_module(module_name)
    return [(n, getattr(module, n)) for n in sorted(module.__all__, key=str.lower)]


def _directive(obj: Any) -> str:
    if inspect.isclass(obj):
        return "autoclass" if not issubclass(obj, BaseException) else "autoexception"
    if callable(obj):
        return "autofunction"
    return "autodata"


def _api_page(module_name: str) -> str:
    module = importlib.import_module(module_name)
    title = f"``{module_name}``"
    lines = [title, "=" * len(title), "", f".. module:: {module_name}", ""]
    doc = inspect.getdoc(module) or ""
    if doc:
        lines += [doc, ""]
    elsewhere = []
    for name, obj in public_names(module_name):
        key = id(obj) if (inspect.isclass(obj) or callable(obj)) else id((module_name, name))
        if key in _documented:
            elsewhere.append(f"- ``{name}``: :py:obj:`{_documented[key]}`")
            continue
        _documented[key] = f"{module_name}.{name}"
        options = ["   :members:"] if inspect.isclass(obj) else []
        if _directive(obj) == "autodata":
            options = ["   :no-value:"] if isinstance(obj, (dict, list, tuple, frozenset)) else []
        lines += ["", f".. {_directive(obj)}:: {module_name}.{name}", *options, ""]
    if elsewhere:
        lines += ["", "Also importable from here", "-" * 25, "", *elsewhere, ""]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:  # unchanged files keep Sphinx's cache
        path.write_text(text)


def undocumented() -> list[str]:
    """Public classes and functions, and the public methods and properties of the classes,
    that have no docstring (inherited ones count)."""
    missing = []
    for module in API_MODULES:
        for name, obj in public_names(module):
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue
            if not inspect.getdoc(obj):
                missing.append(f"{module}.{name}")
            if not inspect.isclass(obj):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if (inspect.isfunction(member) and not inspect.getdoc(getattr(obj, attr))) or (
                        isinstance(member, property) and not inspect.getdoc(member)):
                    missing.append(f"{module}.{name}.{attr}")
    return sorted(set(missing))


def generate_api() -> None:
    missing = undocumented()
    if missing:
        raise RuntimeError(f"public names without a docstring: {missing}")
    _documented.clear()
    pages = []
    for name in API_MODULES:
        _write(OUT / "api" / f"{name}.rst", _api_page(name))
        pages.append(f"   {name}")
    types = ["Types in signatures", "===================", "",
             "Classes that public calls take or return but that are not imported by name; "
             "documented here so that every signature links somewhere.", ""]
    for path in SIGNATURE_TYPES:
        obj = _import(path)
        _documented[id(obj)] = path
        types += [f".. {_directive(obj)}:: {path}", "   :members:", ""]
    schema = inspect.getdoc(importlib.import_module("plait.monitoring._schema")) or ""
    types += ["The monitoring database", "-----------------------", "",
              ".. py:module:: plait.monitoring._schema", "", "::", "",
              *[f"   {line}" for line in schema.splitlines()], ""]
    _write(OUT / "api" / "types.rst", "\n".join(types))
    pages.append("   types")
    index = ["API reference", "=============", "",
             "Every public name of plait, from its docstring. Each object is documented once,",
             "at the first module below that exports it; the others link there.", "",
             ".. toctree::", "   :maxdepth: 1", "", *pages, ""]
    _write(OUT / "api" / "index.rst", "\n".join(index))


def _import(path: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def documented_name(target: str) -> str | None:
    """The public name documenting the object at dotted path ``target``, if any."""
    module_name, _, attr = target.rpartition(".")
    obj: Any = None
    while module_name:
        try:
            obj = importlib.import_module(module_name)
            break
        except ImportError:
            module_name, _, head = module_name.rpartition(".")
            attr = f"{head}.{attr}"
    if obj is None:
        return None
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return _documented.get(id(obj))


# --- site guides -----------------------------------------------------------------------

_AUTH = {
    "none": "Nothing to set up: it runs where the script runs.",
    "ssh-key": "Log in with an SSH key; give the provider "
               "`transport=SSHTransport(host, username=..., key_filename=...)` to submit "
               "from your laptop, or run the script on the login node.",
    "ssh-password": "Log in with SSH and a password: open one master connection yourself "
                    "(`ssh -M -S ~/.ssh/plait-%C -fN HOST`) and give "
                    "`SSHTransport(HOST, control_path=\"~/.ssh/plait-%C\")`.",
    "ssh-2fa": "Log in with SSH and a second factor: run the script on the login node, or "
               "open one master connection yourself (`ssh -M -S ~/.ssh/plait-%C -fN HOST`, "
               "answering the prompts) and give "
               "`SSHTransport(HOST, control_path=\"~/.ssh/plait-%C\")`; plait then never "
               "authenticates.",
    "kerberos": "Get a Kerberos ticket first (`kinit`); SSH and the scheduler use it.",
    "globus": "Log in with Globus (`globus login`); staging uses the same identity.",
    "cloud-credentials": "The cloud's own credentials: a key file, a profile or the SDK's "
                         "usual chain (see the provider's section of the user guide).",
    "kube-config": "The kube config: `$KUBECONFIG` or `~/.kube/config` (or `config_file=`, "
                   "`context=`), else the in-cluster service account.",
}

_METHOD = {
    "run": "a workflow ran there (`plait sites check`)",
    "docs": "read against the site's documentation",
    "parsl": "carried over from Parsl's bundled configuration, not yet run by plait",
}


def shipped_sites() -> list[Any]:
    """The site entries plait ships (never the user's own), by name."""
    from plait.sites import _registry

    folder = Path(_registry.__file__).parent / "entries"
    return sorted(_registry._entries_in(folder, "shipped"), key=lambda e: e.name)


def _site_page(entry: Any) -> str:
    from plait.sites._python import to_python

    required = "".join(f"- `{k}`: {v}\n" for k, v in entry.required.items()) or "none\n"
    staging = "".join(f"- `{dict(s)}`\n" for s in entry.staging)
    lines = [
        f"# {entry.title}", "",
        f"Registry entry `{entry.name}`; site documentation: <{entry.docs}>.", "",
        *([entry.description, ""] if entry.description else []),
        "| What | This site |", "|---|---|",
        f"| Scheduler | `{entry.scheduler}` |",
        f"| Provider | `{entry.provider.kind if entry.provider else 'none (threads)'}` |",
        f"| Launcher | `{entry.launcher.kind if entry.launcher else 'none'}` |",
        f"| Executor | `{entry.executor.kind}` |",
        f"| Authentication | `{entry.auth}` |",
        f"| Last checked | {entry.checked.date}: {_METHOD[entry.checked.method]}; scheduler "
        f"version {entry.checked.scheduler_version} |", "",
        "## Authentication", "", _AUTH[entry.auth], "",
        "## Parameters you must give", "", required,
        "## A ready config", "",
        f"`plait.sites.config(\"{entry.name}\", ...)` builds it; "
        f"`plait sites show {entry.name} --python` prints this file to edit:", "",
        "```python", to_python(entry).rstrip(), "```", "",
    ]
    if staging:
        lines += ["## Data endpoints", "", staging]
    lines += ["## Checking it yourself", "",
              f"`plait sites check {entry.name}` (with `--set NAME=VALUE` for each parameter "
              "above) runs one task there and, if it ran, records today's date, the "
              "scheduler's version and `method = \"run\"` in your own copy of the entry.", ""]
    return "\n".join(lines)


def generate_sites() -> None:
    entries = shipped_sites()
    rows = []
    for e in entries:
        _write(OUT / "sites" / f"{e.name}.md", _site_page(e))
        rows.append(f"| [{e.name}]({e.name}.md) | {e.title} | `{e.scheduler}` | `{e.auth}` "
                    f"| {e.checked.date} ({e.checked.method}) |")
    text = "\n".join([
        "# Site guides", "",
        "One page per entry of plait's site registry (`src/plait/sites/entries/`), generated "
        "from the entry itself. `plait sites list` shows the same, with your own entries.", "",
        "| Entry | Site | Scheduler | Login | Last checked |", "|---|---|---|---|---|",
        *rows, "",
        "\"Last checked\" says how: `run` (a workflow ran there), `docs` (read against the "
        "site's documentation) or `parsl` (carried over from Parsl's bundled configs, not yet "
        "run by plait). `plait sites check NAME --set account=...` runs one task on the site "
        "and records the check in your copy of the entry.", "",
        "## Your own site", "",
        "An entry is a small TOML file (the fields are described in "
        "`plait.sites._schema`). `plait sites validate mine.toml` checks it, naming the file, "
        "the field and the allowed values; `plait sites add mine.toml` installs it in "
        "`$XDG_CONFIG_HOME/plait/sites`, where it overrides a shipped entry of the same name; "
        "`plait sites update URL` fetches a shared index of entries.", "",
        "```{toctree}", ":hidden:", "", *[e.name for e in entries], "```", ""])
    _write(OUT / "sites" / "index.md", text)


# --- troubleshooting ---------------------------------------------------------------------

def error_classes() -> list[tuple[str, type[BaseException]]]:
    """Every error class of ``plait.errors``, by name."""
    return [(n, c) for n, c in public_names("plait.errors") if inspect.isclass(c)]


def advice() -> dict[str, dict[str, str]]:
    """``docs/troubleshooting.toml``: for each error class, ``when`` and ``todo``."""
    from plait.sites._toml import load  # tomllib, or tomli before Python 3.11

    with open(DOCS / "troubleshooting.toml", "rb") as f:
        return load(f)


def generate_troubleshooting() -> None:
    table = advice()
    classes = error_classes()
    names = {n for n, _ in classes}
    missing = sorted(names - table.keys())
    extra = sorted(table.keys() - names)
    if missing or extra:
        raise RuntimeError(f"docs/troubleshooting.toml: add advice for {missing}; "
                           f"remove entries of classes that are gone: {extra}")
    out = ["# Troubleshooting: the errors plait raises", "",
           "Every error class plait raises is importable from `plait.errors`. Each message "
           "names what failed and what to do; this page says, for each class, when you see "
           "it, what it means (its docstring) and what to do. Catch "
           "`plait.errors.PlaitError` for all of them.", ""]
    for name, cls in classes:
        bases = ", ".join(f"{{py:exc}}`~plait.errors.{b.__name__}`" if b.__name__ in names
                          else f"`{b.__name__}`" for b in cls.__bases__)
        meaning = (inspect.getdoc(cls) or "").strip()
        out += [f"## {name}", "",
                f"{{py:exc}}`plait.errors.{name}` (a subclass of {bases})", "",
                f"**When you see it.** {table[name]['when']}", "",
                f"**What it means.** {meaning}", "",
                f"**What to do.** {table[name]['todo']}", ""]
    _write(OUT / "troubleshooting.md", "\n".join(out))


# --- hands-on tutorial ------------------------------------------------------------------

HANDSON = DOCS / "handson" / "steps"


def exercise(solution: str, step: str) -> str:
    """The exercise of a hands-on step: each ``# BEGIN SOLUTION`` .. ``# END SOLUTION``
    region of the solution becomes a ``raise NotImplementedError`` to replace."""
    out: list[str] = []
    inside = False
    for line in solution.splitlines():
        marker = line.strip()
        if marker == "# BEGIN SOLUTION":
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# TODO ({step}): your code here, then delete the next line")
            out.append(f"{indent}raise NotImplementedError({step!r})")
        elif marker == "# END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out) + "\n"


def generate_handson() -> None:
    for path in sorted(HANDSON.glob("step*.py")):
        _write(OUT / "handson" / path.name, exercise(path.read_text(), path.stem))


# --- migration and CLI --------------------------------------------------------------------

def generate_migration_table() -> None:
    from plait.migrate import FEATURES

    rows = [f"| {f.title} | {f.parsl} | {f.plait} |" for f in FEATURES]
    _write(OUT / "migration_table.md",
           "\n".join(["| Feature | Parsl | plait |", "|---|---|---|", *rows, ""]))


def _helps(parser: argparse.ArgumentParser, prog: str) -> list[tuple[str, str]]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        parser.print_help()
    found = [(prog, buf.getvalue())]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _helps(child, f"{prog} {name}")
    return found


def generate_cli() -> None:
    import os

    from plait.cli._main import build_parser

    os.environ["COLUMNS"] = "90"  # argparse wraps to this width: the same on every machine
    out = ["# The `plait` command", "",
           "`plait COMMAND [options]` (or `python -m plait`) gathers plait's tools, one "
           "subcommand per job. Below is each command's `--help`, taken from the parser "
           "itself.", ""]
    for prog, text in _helps(build_parser(), "plait"):
        level = "#" * min(2 + prog.count(" "), 4) if prog != "plait" else "##"
        out += [f"{level} `{prog}`", "", "```text", text.rstrip(), "```", ""]
    _write(OUT / "cli.md", "\n".join(out))


def generate() -> None:
    """Write every generated page."""
    generate_api()
    generate_sites()
    generate_troubleshooting()
    generate_migration_table()
    generate_cli()
    generate_handson()


def _resolve_private(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("plait."):
        return None
    public = documented_name(target)
    if public is None or public == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], public,
                               node, contnode)


def setup(app: Any) -> dict[str, Any]:
    generate()
    app.connect("missing-reference", _resolve_private)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
