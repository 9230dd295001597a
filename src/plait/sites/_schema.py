"""The site entry schema: what a registry file may say, checked field by field.

An entry is a small TOML file::

    name = "delta"                      # the entry's name: plait.configs.delta
    title = "NCSA Delta (GPU nodes)"
    docs = "https://docs.ncsa.illinois.edu/systems/delta/"
    scheduler = "slurm"                 # one of SCHEDULERS
    auth = "ssh-2fa"                    # one of AUTH: how users reach the login node
    address = "interface:hsn0"          # optional: how workers reach the submit host

    [checked]                           # when, against what, and how it was last checked
    date = "2026-11-20"
    scheduler_version = "Slurm 23.11"
    method = "docs"                     # "run": ran a workflow there; "docs": read the
                                        # docs; "parsl": taken from Parsl's bundled config

    [executor]                          # kind + the executor's own parameters
    kind = "HighThroughputExecutor"
    max_workers_per_node = 1

    [provider]                          # kind + the provider's parameters (Parsl's names)
    kind = "SlurmProvider"
    partition = "gpuA100x4"

    [launcher]
    kind = "SrunLauncher"

    [config]                            # Config fields
    retries = 1

    [required]                          # parameters users must give, with what they mean
    account = "your allocation on Delta (sbatch --account)"

    [[staging]]                         # data endpoints of the site, for reference
    scheme = "globus"
    endpoint = "..."

Parameter names are checked against the class's constructor when plait has the class, and
against Parsl's documented parameters otherwise (so an entry for a provider still to come
is validated now).
"""

from __future__ import annotations

import datetime
import inspect
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plait.sites._errors import SiteError

SCHEDULERS = ("local", "slurm", "pbspro", "torque", "condor", "gridengine", "lsf",
              "kubernetes", "aws", "azure", "googlecloud")
AUTH = ("none", "ssh-key", "ssh-password", "ssh-2fa", "kerberos", "globus",
        "cloud-credentials", "kube-config")
CHECK_METHODS = ("run", "docs", "parsl")
EXECUTORS = ("ThreadPoolExecutor", "HighThroughputExecutor", "MPIExecutor")
ADDRESS_RULES = ("interface:NAME", "route", "hostname", "query")

_BLOCKS = {"init_blocks", "min_blocks", "max_blocks", "nodes_per_block", "parallelism",
           "worker_init", "launcher", "cmd_timeout", "walltime", "scheduler_options"}
#: Parsl's documented provider parameters, for providers plait does not have (yet)
PARSL_PROVIDER_PARAMS: dict[str, frozenset[str]] = {
    "LocalProvider": frozenset(_BLOCKS - {"scheduler_options"}),
    "SlurmProvider": frozenset(_BLOCKS | {
        "partition", "account", "qos", "constraint", "clusters", "cores_per_node",
        "mem_per_node", "gpus_per_node", "gres", "exclusive", "regex_job_id",
        "status_batch_size"}),
    "PBSProProvider": frozenset(_BLOCKS | {"account", "queue", "select_options",
                                           "cpus_per_node"}),
    "TorqueProvider": frozenset(_BLOCKS | {"account", "queue"}),
    "CondorProvider": frozenset(_BLOCKS | {
        "cores_per_slot", "mem_per_slot", "environment", "project", "transfer_input_files",
        "requirements", "cmd_chunk_size"}),
    "GridEngineProvider": frozenset(_BLOCKS | {"queue"}),
    "LSFProvider": frozenset(_BLOCKS | {"cores_per_block", "cores_per_node", "project",
                                        "queue", "bsub_redirection", "request_by_nodes"}),
    "KubernetesProvider": frozenset({
        "image", "namespace", "init_blocks", "min_blocks", "max_blocks", "max_cpu",
        "max_mem", "init_cpu", "init_mem", "parallelism", "worker_init", "pod_name",
        "user_id", "group_id", "run_as_non_root", "secret", "persistent_volumes",
        "service_account_name", "annotations", "extra_requests", "extra_limits",
        "nodes_per_block"}),
    "AWSProvider": frozenset({
        "image_id", "key_name", "init_blocks", "min_blocks", "max_blocks", "nodes_per_block",
        "parallelism", "worker_init", "instance_type", "region", "spot_max_bid", "key_file",
        "profile", "iam_instance_profile_arn", "state_file", "walltime", "linger",
        "launcher"}),
    "AzureProvider": frozenset({
        "vm_reference", "init_blocks", "min_blocks", "max_blocks", "parallelism",
        "worker_init", "location", "group_name", "key_name", "key_file", "vnet_name",
        "linger", "launcher"}),
    "GoogleCloudProvider": frozenset({
        "project_id", "key_file", "region", "os_project", "os_family", "google_version",
        "instance_type", "init_blocks", "min_blocks", "max_blocks", "parallelism",
        "worker_init", "launcher"}),
}
#: which scheduler each provider talks to
PROVIDER_SCHEDULER = {
    "LocalProvider": "local", "SlurmProvider": "slurm", "PBSProProvider": "pbspro",
    "TorqueProvider": "torque", "CondorProvider": "condor",
    "GridEngineProvider": "gridengine", "LSFProvider": "lsf",
    "KubernetesProvider": "kubernetes", "AWSProvider": "aws", "AzureProvider": "azure",
    "GoogleCloudProvider": "googlecloud",
}
_TOP = {"name", "title", "docs", "scheduler", "auth", "address", "description", "checked",
        "executor", "provider", "launcher", "config", "required", "staging"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Component:
    """One class to build (executor, provider or launcher) and its parameters."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Checked:
    """When, against which scheduler version, and how an entry was last checked."""

    date: datetime.date
    scheduler_version: str
    method: str


@dataclass(frozen=True)
class SiteEntry:
    """A validated site entry; ``source`` is the file it came from."""

    name: str
    title: str
    docs: str
    scheduler: str
    auth: str
    checked: Checked
    executor: Component
    provider: Component | None = None
    launcher: Component | None = None
    address: str | None = None
    description: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    required: Mapping[str, str] = field(default_factory=dict)
    staging: tuple[Mapping[str, Any], ...] = ()
    source: str = "<memory>"
    origin: str = "shipped"  # shipped, remote or user


def _choice(where: str, name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        given = "missing" if value is None else f"{value!r} is not allowed"
        raise SiteError(where, name, f"{given}; use one of {', '.join(allowed)}")
    assert isinstance(value, str)
    return value


def _text(where: str, name: str, data: Mapping[str, Any], required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise SiteError(where, name, f"expected a non-empty string, got {value!r}")
    return value


def _table(where: str, name: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise SiteError(where, name, f"expected a table ([{name}]), got {value!r}")
    return value


def known_params(group: str, kind: str) -> frozenset[str] | None:
    """The constructor parameters of ``kind`` (None: plait has no such class and Parsl
    documents none)."""
    cls = component_class(group, kind)
    if cls is None:
        return PARSL_PROVIDER_PARAMS.get(kind) if group == "provider" else None
    params = inspect.signature(cls).parameters
    return frozenset(n for n, p in params.items()
                     if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def component_class(group: str, kind: str) -> type | None:
    """plait's class named ``kind`` for ``group`` (executor, provider, launcher), if any."""
    import importlib

    module = {"executor": "plait.executors", "provider": "plait.providers",
              "launcher": "plait.launchers"}[group]
    try:
        cls = getattr(importlib.import_module(module), kind)
    except (AttributeError, ImportError):
        return None
    return cls if isinstance(cls, type) else None


def _component(where: str, group: str, data: Mapping[str, Any],
               kinds: tuple[str, ...]) -> Component:
    table = dict(_table(where, group, data))
    kind = _choice(where, f"{group}.kind", table.pop("kind", None), kinds)
    allowed = known_params(group, kind)
    for param in table:
        if allowed is not None and param not in allowed:
            raise SiteError(where, f"{group}.{param}",
                            f"{kind} has no parameter {param!r}; it takes "
                            f"{', '.join(sorted(allowed))}")
        if param in ("provider", "launcher"):
            raise SiteError(where, f"{group}.{param}",
                            f"give the {param} as its own [{param}] table")
    return Component(kind, table)


def _checked(where: str, data: Mapping[str, Any]) -> Checked:
    table = _table(where, "checked", data)
    if not table:
        raise SiteError(where, "checked", "missing: add [checked] with date, "
                        "scheduler_version and method")
    raw = table.get("date")
    if isinstance(raw, str):
        try:
            raw = datetime.date.fromisoformat(raw)
        except ValueError:
            pass
    if not isinstance(raw, datetime.date):
        raise SiteError(where, "checked.date", f"expected a date YYYY-MM-DD, got {raw!r}")
    version = _text(where, "scheduler_version", table)
    method = _choice(where, "checked.method", table.get("method"), CHECK_METHODS)
    extra = set(table) - {"date", "scheduler_version", "method"}
    if extra:
        raise SiteError(where, "checked", f"unknown key(s) {', '.join(sorted(extra))}")
    return Checked(raw, version, method)


def _address(where: str, value: object) -> str | None:
    if value is None:
        return None
    ok = isinstance(value, str) and (value in ("route", "hostname", "query") or (
        value.startswith("interface:") and len(value) > len("interface:")))
    if not ok:
        raise SiteError(where, "address", f"{value!r} is not allowed; use one of "
                        f"{', '.join(ADDRESS_RULES)}")
    return str(value)


def parse_entry(data: Mapping[str, Any], where: str, origin: str = "shipped") -> SiteEntry:
    """Validate a decoded entry; ``where`` (its file) opens every error message.

    Raises:
        SiteError: naming the file, the field, and what is allowed.
    """
    unknown = set(data) - _TOP
    if unknown:
        raise SiteError(where, ", ".join(sorted(unknown)),
                        f"unknown key(s); an entry may have {', '.join(sorted(_TOP))}")
    name = _text(where, "name", data)
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise SiteError(where, "name", f"{name!r} must be lower case letters, digits and _ "
                        "(it becomes the module plait.configs.<name>)")
    scheduler = _choice(where, "scheduler", data.get("scheduler"), SCHEDULERS)
    executor = _component(where, "executor", data, EXECUTORS)
    provider = launcher = None
    if "provider" in data:
        provider = _component(where, "provider", data, tuple(PARSL_PROVIDER_PARAMS))
        if PROVIDER_SCHEDULER[provider.kind] != scheduler:
            raise SiteError(where, "provider.kind", f"{provider.kind} does not talk to "
                            f"scheduler {scheduler!r}; use "
                            f"{PROVIDER_SCHEDULER[provider.kind]!r} or another provider")
    elif executor.kind != "ThreadPoolExecutor":
        raise SiteError(where, "provider", f"{executor.kind} needs a [provider] table")
    if "launcher" in data:
        from plait import launchers

        kinds = tuple(n for n in launchers.__all__ if n.endswith("Launcher") and n != "Launcher")
        launcher = _component(where, "launcher", data, kinds)
    config = dict(_table(where, "config", data))
    _check_config_fields(where, config)
    required = dict(_table(where, "required", data))
    for key, text in required.items():
        if not isinstance(text, str) or not text:
            raise SiteError(where, f"required.{key}", "expected a description of what to "
                            "give, e.g. account = \"your allocation (sbatch --account)\"")
    staging = data.get("staging", [])
    if not isinstance(staging, list) or not all(
            isinstance(s, Mapping) and isinstance(s.get("scheme"), str) for s in staging):
        raise SiteError(where, "staging", "expected [[staging]] tables, each with a scheme")
    return SiteEntry(
        name=name, title=_text(where, "title", data), docs=_text(where, "docs", data),
        scheduler=scheduler, auth=_choice(where, "auth", data.get("auth"), AUTH),
        checked=_checked(where, data), executor=executor, provider=provider,
        launcher=launcher, address=_address(where, data.get("address")),
        description=_text(where, "description", data, required=False), config=config,
        required=required, staging=tuple(staging), source=where, origin=origin)


def config_fields() -> frozenset[str]:
    """The Config fields an entry's [config] table may set."""
    from dataclasses import fields

    from plait._config import Config

    return frozenset(f.name for f in fields(Config) if f.init and f.name != "executors")


def _check_config_fields(where: str, config: Mapping[str, Any]) -> None:
    allowed = config_fields()
    for key in config:
        if key not in allowed:
            raise SiteError(where, f"config.{key}", f"Config has no field {key!r}; it has "
                            f"{', '.join(sorted(allowed))}")
