"""The site registry: shipped entries are valid and build Configs (each whose provider plait
has; the others explain what is missing), the local ones run, overrides are checked one by
one, user entries override shipped ones, and plait.configs.<name> comes from the same data."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import python_app, sites
from plait.errors import NotYetAvailable
from plait.sites import SiteError
from plait.sites._registry import SHIPPED_DIR, read_entry
from plait.sites._schema import component_class

SHIPPED = sorted(p.stem for p in SHIPPED_DIR.glob("*.toml"))
DUMMY = {"account": "acct", "partition": "part", "project": "proj", "walltime": "00:05:00",
         "worker_init": "true", "image": "img", "image_id": "ami-1", "region": "us-east-2",
         "key_name": "k", "scheduler_options": "",
         "vm_reference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                          "sku": "server", "version": "latest", "vm_size": "Standard_B2s",
                          "admin_username": "plait", "password": "not-a-real-one"}}


@pytest.fixture(autouse=True)
def own_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """User and cache directories of this test only."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PLAIT_SITES_INDEX", raising=False)


def buildable(name: str) -> bool:
    entry = sites.show(name)
    parts = [("executor", entry.executor), ("provider", entry.provider),
             ("launcher", entry.launcher)]
    return all(c is None or component_class(g, c.kind) is not None for g, c in parts)


def test_shipped_entries_are_valid_and_named_after_their_file() -> None:
    assert {"local_threads", "htex_local", "midway", "polaris", "delta"} <= set(SHIPPED)
    for stem in SHIPPED:
        entry = read_entry(SHIPPED_DIR / f"{stem}.toml", "shipped")
        assert entry.name == stem
        assert entry.checked.scheduler_version and entry.docs.startswith("https://")


@pytest.fixture
def cloud_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Made-up credentials where the cloud entries look for them (the providers check that
    credentials exist when they are built; nothing here talks to a cloud)."""
    aws = tmp_path / "aws-credentials"
    aws.write_text("[default]\naws_access_key_id = AKIAEXAMPLE\n"
                   "aws_secret_access_key = not-a-real-secret\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.chdir(tmp_path)  # the azure entry's key_file is relative
    (tmp_path / "azure_key_file.json").write_text(json.dumps({
        "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s", "AZURE_TENANT_ID": "t",
        "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000"}))


@pytest.mark.usefixtures("cloud_credentials")
@pytest.mark.parametrize("name", SHIPPED)
def test_every_entry_builds_or_names_the_missing_provider(name: str) -> None:
    """Covers new providers on its own: once plait has the class, the entry must build."""
    entry = sites.show(name)
    given = {k: DUMMY[k] for k in entry.required}
    if entry.address:
        given["address"] = "127.0.0.1"
    if buildable(name):
        config = sites.config(name, **given)
        assert isinstance(config, plait.Config)
        config.validate()
        executor = config.executor_list[0]
        assert type(executor).__name__ == entry.executor.kind
        if entry.provider is not None:
            assert type(executor.provider).__name__ == entry.provider.kind  # type: ignore[attr-defined]
    else:
        with pytest.raises(NotYetAvailable, match=entry.provider.kind if entry.provider
                           else entry.executor.kind):
            sites.config(name, **given)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", ["local_threads", "htex_local"])
def test_local_entries_run_a_workflow(name: str, tmp_path: Path) -> None:
    @python_app
    def square(x: int) -> int:
        return x * x

    plait.clear()
    with plait.load(sites.config(name, run_dir=str(tmp_path / "runinfo"))):
        assert [f.result(timeout=60) for f in [square(i) for i in range(5)]] == [
            0, 1, 4, 9, 16]


def test_configs_modules_come_from_the_registry(tmp_path: Path) -> None:
    from plait.configs.htex_local import config, fresh_config

    assert type(config.executor_list[0]).__name__ == "HighThroughputExecutor"
    assert fresh_config() is not config
    module = importlib.import_module("plait.configs.local_threads")
    assert module.config is module.config and module.entry.name == "local_threads"
    assert set(SHIPPED) <= set(dir(importlib.import_module("plait.configs")))
    with pytest.raises(SiteError, match="give account"):
        importlib.import_module("plait.configs.delta").config  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("plait.configs.no_such_site")
    # Parsl's module names in capitals find the lower-case entries
    assert importlib.import_module("plait.configs.ASPIRE1").entry.name == "aspire1"
    assert importlib.import_module("plait.configs.Azure").entry.name == "azure"


def test_overrides_are_checked_one_by_one() -> None:
    config = sites.config("htex_local", max_blocks=2, retries=1, label="mine",
                          **{"provider.label": "prov", "executor.max_workers_per_node": 3})
    ex = config.executor_list[0]
    assert (ex.label, ex.provider.label, ex.provider.max_blocks, ex.max_workers_per_node,
            config.retries) == ("mine", "prov", 2, 3, 1)
    with pytest.raises(SiteError, match=r"site htex_local: walltimes: unknown parameter "
                                        r"\(did you mean walltime\?\); "
                                        r"parameters are executor \(HighThroughputExecutor\)"):
        sites.config("htex_local", walltimes="01:00:00")
    with pytest.raises(SiteError, match=r"site htex_local: colour: unknown parameter; "):
        sites.config("htex_local", colour="blue")
    with pytest.raises(SiteError, match=r"max_blocks: 'two' is a str; .* type int"):
        sites.config("htex_local", max_blocks="two")
    with pytest.raises(SiteError, match=r"launcher\.overrides: not a parameter"):
        sites.config("htex_local", **{"launcher.overrides": "x"})
    with pytest.raises(SiteError, match=r"could not be built: .*max_blocks"):
        sites.config("htex_local", max_blocks=-1)
    with pytest.raises(SiteError, match="no site called 'nowhere'; known sites: anvil"):
        sites.config("nowhere")


GOOD = {
    "name": "mysite", "title": "My cluster", "docs": "https://example.org/docs",
    "scheduler": "local", "auth": "none",
    "checked": {"date": "2026-11-30", "scheduler_version": "bash 5.2", "method": "run"},
    "executor": {"kind": "HighThroughputExecutor", "label": "mine"},
    "provider": {"kind": "LocalProvider", "max_blocks": 2},
}


def _with(path: str, value: Any) -> dict[str, Any]:
    import copy

    entry = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    table = entry
    for p in parents:
        table = table[p]
    if value is None:
        del table[last]
    else:
        table[last] = value
    return entry


@pytest.mark.parametrize(("path", "value", "message"), [
    ("scheduler", "slurmish", "scheduler: 'slurmish' is not allowed; use one of local, slurm"),
    ("auth", None, "auth: missing; use one of none, ssh-key"),
    ("name", "My Site", "name: 'My Site' must be lower case"),
    ("checked.date", "yesterday", "checked.date: expected a date YYYY-MM-DD"),
    ("checked.method", "hope", "checked.method: 'hope' is not allowed; use one of run, docs"),
    ("checked", None, "checked: missing: add [checked]"),
    ("executor.kind", "DaskExecutor", "executor.kind: 'DaskExecutor' is not allowed"),
    ("executor.max_workers", 2, "executor.max_workers: HighThroughputExecutor has no "
     "parameter 'max_workers'; it takes"),
    ("provider.kind", "SlurmProvider", "provider.kind: SlurmProvider does not talk to "
     "scheduler 'local'"),
    ("provider.partition", "x", "provider.partition: LocalProvider has no parameter"),
    ("provider", None, "provider: HighThroughputExecutor needs a [provider] table"),
    ("config", {"retry": 1}, "config.retry: Config has no field 'retry'"),
    ("colour", "blue", "colour: unknown key(s)"),
    ("address", "eth0", "address: 'eth0' is not allowed; use one of interface:NAME, route"),
])
def test_schema_errors_name_file_field_and_allowed_values(
        tmp_path: Path, path: str, value: Any, message: str) -> None:
    from plait.sites._registry import dumps_toml

    file = tmp_path / "mysite.toml"
    file.write_text(dumps_toml(_with(path, value)))
    with pytest.raises(SiteError) as info:
        sites.validate(file)
    assert str(info.value).startswith(f"{file}: ") and message in str(info.value)


def test_schema_knows_parsl_parameters_of_providers_plait_lacks(tmp_path: Path) -> None:
    from plait.sites._registry import dumps_toml

    entry = {**GOOD, "scheduler": "pbspro",
             "provider": {"kind": "PBSProProvider", "queue": "prod", "cpus_per_nodes": 4}}
    file = tmp_path / "pbs.toml"
    file.write_text(dumps_toml(entry))
    with pytest.raises(SiteError, match="PBSProProvider has no parameter 'cpus_per_nodes'"):
        sites.validate(file)


def test_user_entries_override_shipped_ones(tmp_path: Path) -> None:
    from plait.sites._registry import dumps_toml, user_dir

    mine = {**GOOD, "name": "htex_local", "title": "my local pilot"}
    file = tmp_path / "htex_local.toml"
    file.write_text(dumps_toml(mine))
    installed = sites.add(file)
    assert installed == user_dir() / "htex_local.toml"
    entry = sites.show("htex_local")
    assert (entry.origin, entry.title) == ("user", "my local pilot")
    assert sites.config("htex_local").executor_list[0].label == "mine"
    assert sites.add({**GOOD, "name": "other"}).name == "other.toml"
    assert "other" in {e.name for e in sites.list()}
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [")
    with pytest.raises(SiteError, match=r"broken\.toml: is not valid TOML"):
        sites.add(broken)


@pytest.mark.timeout(120)
def test_check_runs_a_task_and_records_it(capsys: pytest.CaptureFixture[str]) -> None:
    from plait.cli._main import main
    from plait.sites._registry import user_dir

    assert sites.show("htex_local").checked.method == "run"
    assert main(["sites", "check", "htex_local", "--set", "max_workers_per_node=1",
                 "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "htex_local: a task ran on " in out and "recorded in" in out
    entry = sites.show("htex_local")
    assert entry.origin == "user" and entry.source == str(user_dir() / "htex_local.toml")
    assert entry.checked.scheduler_version.startswith("GNU bash")
    # a site whose blocks cannot start fails the check and records nothing
    broken = ["sites", "check", "local_threads", "--no-record", "--set", "max_threads=0"]
    assert main(broken) == 1
    assert "max_threads" in capsys.readouterr().err
    assert sites.show("local_threads").origin == "shipped"
    with pytest.raises(SiteError, match=r"the probe task did not run: .*TooManyJobFailures"):
        from plait.sites._check import check

        check("htex_local", {"worker_init": "exit 3"}, timeout=60, record=True)
    assert sites.show("htex_local").checked == entry.checked


def test_a_broken_user_entry_is_skipped_with_a_warning() -> None:
    from plait.sites._registry import user_dir

    user_dir().mkdir(parents=True)
    (user_dir() / "broken.toml").write_text('name = "broken"\n')
    with pytest.warns(UserWarning, match=r"site entry skipped: .*broken\.toml: scheduler"):
        names = {e.name for e in sites.list()}
    assert "htex_local" in names and "broken" not in names


@pytest.mark.parametrize("name", SHIPPED)
def test_show_python_is_a_config_file(name: str) -> None:
    """Every entry renders as Python that parses; buildable ones run to the same Config."""
    import ast

    from plait.sites._python import to_python

    entry = sites.show(name)
    given = {k: DUMMY[k] for k in entry.required}
    source = to_python(entry, given)
    ast.parse(source)
    assert 'REQUIRED' not in source
    if entry.required:
        assert "# REQUIRED: " in to_python(entry)
    if buildable(name) and not entry.address:
        namespace: dict[str, Any] = {}
        exec(compile(source, f"<{name}>", "exec"), namespace)
        built, expected = namespace["config"], sites.config(name, **given)
        assert repr(built) == repr(expected)


def test_show_python_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from plait.cli._main import main

    assert main(["sites", "show", "delta", "--python", "--set", "walltime=01:00:00",
                 "--set", "account=abc"]) == 0
    out = capsys.readouterr().out
    assert "walltime='01:00:00'" in out and "account='abc'" in out
    assert out.startswith('"""NCSA Delta') and "from plait.providers import SlurmProvider" \
        in out


@pytest.mark.timeout(180)
def test_check_on_the_real_slurm_records_its_version(tmp_path: Path) -> None:
    """A site entry for the Slurm of services/slurm.sh, checked: a task runs in a block and
    the entry records Slurm's own version string."""
    from plait.sites._check import check
    from slurm_jobs import WORKER_INIT, slurm

    entry = {**GOOD, "name": "test_slurm", "scheduler": "slurm",
             "provider": {"kind": "SlurmProvider", "partition": slurm()["SLURM_PARTITION"],
                          "exclusive": False, "walltime": "00:05:00",
                          "worker_init": WORKER_INIT}}
    sites.add(entry)
    where, recorded = check("test_slurm", {}, timeout=150)
    assert where and recorded.checked.method == "run"
    assert recorded.checked.scheduler_version.startswith("slurm")


@pytest.mark.parametrize(("module", "executor"), [
    ("wqex_local", "WorkQueueExecutor"), ("vineex_local", "TaskVineExecutor"),
    ("toss3_llnl", "FluxExecutor"), ("gc_tutorial", "GlobusComputeExecutor"),
    ("gc_multisite", "GlobusComputeExecutor")])
def test_parsl_configs_of_executors_not_shipped_say_what_to_use(module: str,
                                                               executor: str) -> None:
    """Parsl's own modules raise OptionalModuleMissing where the service is missing; plait's
    import, and their config raises the executor's ExecutorNotShipped."""
    from plait.executors._errors import ExecutorNotShipped

    assert module in dir(importlib.import_module("plait.configs"))
    with pytest.raises(ExecutorNotShipped, match=rf"^{executor} needs .* Use "):
        exec(f"from plait.configs.{module} import config", {})
