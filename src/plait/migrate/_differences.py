"""What plait does differently from Parsl, and how ``plait migrate`` spots it in a script.

FEATURES is the table the README reproduces (a test keeps the two in step): one row per
difference a migrated script may meet. ``find_differences`` walks the script's syntax tree
and reports each row whose pattern it contains, with the line.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    """One behaviour plait treats differently from Parsl."""

    key: str
    title: str
    parsl: str
    plait: str


FEATURES: tuple[Feature, ...] = (
    Feature("exit-mode", "End of `with load(config):`",
            "exit_mode='cleanup': cleans up at once, tasks still running are abandoned",
            "exit_mode='wait' by default: waits for every task, then cleans up; "
            "set Config(exit_mode='cleanup') for Parsl's behaviour"),
    Feature("cancel", "`AppFuture.cancel()`",
            "raises NotImplementedError",
            "cancels a task that has not started; its dependents fail with DependencyError"),
    Feature("htex-defaults", "HighThroughputExecutor heartbeats and prefetch",
            "heartbeat_period=30, heartbeat_threshold=120, prefetch_capacity=0",
            "2 s / 8 s, so a lost manager fails its tasks within seconds; prefetch is "
            "automatic (None); give the values to keep Parsl's"),
    Feature("lost-worker", "Tasks lost with a worker, manager or block (`retries=`)",
            "each loss costs one of `retries`; with retries=0 the task fails at once",
            "retried on Config(infrastructure_retries=3) without spending `retries`, each "
            "retry a WARNING and a try in task_record; a task that kills its own worker "
            "fails with TaskKilledWorker after two losses; set infrastructure_retries=0 for "
            "Parsl's counting"),
    Feature("not-shipped", "Work Queue, TaskVine, Flux, RADICAL-Pilot, Globus Compute executors",
            "run on those services",
            "import, but raise ExecutorNotShipped when built: use HighThroughputExecutor "
            "(or MPIExecutor)"),
    Feature("monitoring", "`MonitoringHub`",
            "a router process and radios write the monitoring database",
            "the same tables and columns, written in batches by one writer process (plait "
            "adds plait_* tables); worker resources are sampled by each node's manager, not "
            "by a process per task"),
    Feature("usage-tracking", "`usage_tracking=`",
            "sends usage data over UDP to Parsl's collector at levels 1-3",
            "off by default; levels 1-3 send only to $PLAIT_USAGE_TRACKING_ENDPOINT (plait "
            "runs no collector); `plait usage --show` prints what would be sent"),
    Feature("checkpoints", "Checkpoint files",
            "runinfo/NNN/checkpoint/tasks.pkl (pickles)",
            "runinfo/NNN/checkpoint/tasks.ckpt (CRC-checked records); Parsl's files are not "
            "read, so the first plait run recomputes"),
    Feature("local-walltime", "`LocalProvider(walltime=)`",
            "not enforced",
            "enforced when given (the block is stopped and reported TIMEOUT); no limit "
            "when not given"),
    Feature("mpi-prefix", "`MPIExecutor` with Open MPI",
            "$PARSL_MPI_PREFIX is 'mpiexec -n N -ppn K -hosts ...' (MPICH/PALS flags)",
            "'mpiexec -n N --host a:K,b:K' under Open MPI; MPICH-style elsewhere"),
    Feature("site-configs", "`parsl.configs.<site>`",
            "modules with placeholders such as 'YOUR_ALLOCATION' to edit",
            "made from the site registry: sites that need an account or partition raise "
            "SiteError naming it; use fresh_config(account=...) or plait.sites.config()"),
    Feature("visualize", "`parsl-visualize`",
            "a Flask web app over the monitoring database",
            "plait dashboard (live, over the same database); plait report writes one "
            "self-contained HTML file"),
    Feature("requirements", "Package requirements",
            "'parsl' in requirements and install commands",
            "plait migrate rewrites pip commands in notebooks; edit requirement files "
            "yourself"),
    Feature("serialization", "Serialization of arguments, results and functions",
            "dill for data (b'02') and for functions (b'C2')",
            "pickle protocol 5, cloudpickle where pickle cannot, large buffers out of band; "
            "register_method_for_data/_code select another method as in Parsl, for what "
            "the registering process sends"),
    Feature("missing-path", "Parsl modules plait does not have",
            "monitoring internals, HTEX internals",
            "each import is reported by name; internals have no plait twin (plait's pilot "
            "executor and monitoring are built differently)"),
)
BY_KEY = {f.key: f for f in FEATURES}
_NOT_SHIPPED = {"WorkQueueExecutor", "TaskVineExecutor", "FluxExecutor",
                "RadicalPilotExecutor", "GlobusComputeExecutor"}


@dataclass(frozen=True, order=True)
class Finding:
    """A line of a migrated script that meets one of FEATURES."""

    line: int
    key: str
    detail: str

    def describe(self) -> str:
        """One line for the report: the line number, the feature and what plait does."""
        feature = BY_KEY[self.key]
        return f"line {self.line}: {feature.title}: {self.detail or feature.plait}"


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _keywords(call: ast.Call) -> set[str]:
    return {k.arg for k in call.keywords if k.arg}


def _call_findings(call: ast.Call) -> list[Finding]:
    name, kw, line = _name(call.func), _keywords(call), call.lineno
    found = []
    if name == "cancel" and isinstance(call.func, ast.Attribute):
        found.append(Finding(line, "cancel", ""))
    if name in ("HighThroughputExecutor", "MPIExecutor") and not {
            "heartbeat_period", "heartbeat_threshold"} <= kw:
        found.append(Finding(line, "htex-defaults", ""))
    if name == "MPIExecutor":
        found.append(Finding(line, "mpi-prefix", ""))
    if name in _NOT_SHIPPED:
        found.append(Finding(line, "not-shipped", f"{name} raises ExecutorNotShipped "
                             "when built; use HighThroughputExecutor"))
    if name == "MonitoringHub":
        found.append(Finding(line, "monitoring", ""))
    if name == "Config" and "retries" in kw and "infrastructure_retries" not in kw:
        found.append(Finding(line, "lost-worker", ""))
    if "usage_tracking" in kw:
        found.append(Finding(line, "usage-tracking", ""))
    if "checkpoint_files" in kw or name in ("get_all_checkpoints", "get_last_checkpoint"):
        found.append(Finding(line, "checkpoints", ""))
    if name in ("register_method_for_data", "register_method_for_code"):
        found.append(Finding(line, "serialization", ""))
    if name == "LocalProvider" and "walltime" in kw:
        found.append(Finding(line, "local-walltime", ""))
    return found


def _with_findings(node: ast.With) -> list[Finding]:
    for item in node.items:
        expr = item.context_expr
        if isinstance(expr, ast.Call) and _name(expr.func) == "load":
            return [Finding(node.lineno, "exit-mode", "")]
    return []


def _import_findings(node: ast.Import | ast.ImportFrom) -> list[Finding]:
    modules: list[tuple[str, list[str]]] = []
    if isinstance(node, ast.Import):
        modules = [(a.name, []) for a in node.names]
    elif node.module and node.level == 0:
        modules = [(node.module, [a.name for a in node.names if a.name != "*"])]
    found = []
    for module, names in modules:
        if module.split(".")[0] != "plait":
            continue
        if module.startswith("plait.configs."):
            found.extend(_site_findings(node.lineno, module))
            continue
        found += [Finding(node.lineno, "not-shipped", f"{n} raises ExecutorNotShipped when "
                          "built; use HighThroughputExecutor") for n in names if n in _NOT_SHIPPED]
        if "visualization" in module:
            found.append(Finding(node.lineno, "visualize", ""))
        found.extend(_check_import(node.lineno, module, names))
    return found


def _site_findings(line: int, module: str) -> list[Finding]:
    from plait.configs import NOT_SHIPPED
    from plait.sites import SiteError, show

    name = module.split(".")[2]
    if name in NOT_SHIPPED:
        return [Finding(line, "not-shipped", f"{module}'s config is a {NOT_SHIPPED[name]}, "
                        "which raises ExecutorNotShipped when built; use "
                        "plait.configs.htex_local")]
    try:
        entry = show(name)
    except SiteError:
        return [Finding(line, "missing-path", f"the site registry has no entry {name!r} "
                        "(see plait sites list)")]
    if not entry.required:
        return []
    need = ", ".join(f"{k}=..." for k in entry.required)
    return [Finding(line, "site-configs", f"site {name} needs {', '.join(entry.required)}: "
                    f"use config = fresh_config({need}) from {module}")]


def _check_import(line: int, module: str, names: list[str]) -> list[Finding]:
    from plait._errors import NotYetAvailable, PlaitError

    if not _module_exists(module):
        return [Finding(line, "missing-path", f"plait has no module {module} (Parsl's "
                        f"parsl{module[len('plait'):]}); see plait's migration notes")]
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # an optional dependency missing here, say: say so, go on
        return [Finding(line, "missing-path", f"{module} cannot be imported here: "
                        f"{type(exc).__name__}: {exc}")]
    found = []
    for name in names:
        try:
            getattr(mod, name)
        except NotYetAvailable as exc:
            found.append(Finding(line, "missing-path", str(exc)))
        except PlaitError as exc:  # e.g. a site config that needs an account
            found.append(Finding(line, "site-configs", str(exc)))
        except AttributeError:
            if not _module_exists(f"{module}.{name}"):
                found.append(Finding(line, "missing-path", f"{module} has no {name}"))
    return found


def _module_exists(module: str) -> bool:
    """Whether ``module`` can be found (a submodule of a plain module cannot)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _string_findings(node: ast.Constant) -> list[Finding]:
    text = node.value
    if isinstance(text, str) and (text.startswith(("parsl>", "parsl=", "parsl[", "parsl~"))
                                  or text == "parsl-visualize"):
        key = "visualize" if text == "parsl-visualize" else "requirements"
        return [Finding(node.lineno, key, f"the string {text!r} is left as it is")]
    return []


def find_differences(migrated_source: str) -> list[Finding]:
    """The rows of FEATURES that ``migrated_source`` (already rewritten to plait) meets,
    by line; a source that does not parse gives none."""
    try:
        tree = ast.parse(migrated_source)
    except SyntaxError:
        return []
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found += _call_findings(node)
        elif isinstance(node, ast.With):
            found += _with_findings(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found += _import_findings(node)
        elif isinstance(node, ast.Constant):
            found += _string_findings(node)
    return sorted(set(found))
