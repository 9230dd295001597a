"""Bad input, swept: every public constructor refuses nonsense with a ConfigurationError that
names the field, shows the value and says what is allowed; it accepts what is allowed.

Table-driven and property-based (hypothesis): each :class:`Row` names a constructor, one of
its fields, a strategy of values it must refuse and one of values it must accept, and the
arguments the other fields get. To cover a new constructor (a provider, MonitoringHub,
File, ...), add a table of rows and append it to ``ROWS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plait import BasicMemoizer, Config, File, RetryBackoff, ThreadPoolExecutor
from plait.data_provider.file_noop import NoOpFileStaging
from plait.data_provider.ftp import FTPInTaskStaging, FTPSeparateTaskStaging
from plait.data_provider.globus import GlobusStaging
from plait.data_provider.http import HTTPInTaskStaging, HTTPSeparateTaskStaging
from plait.data_provider.rsync import RSyncStaging
from plait.data_provider.s3 import S3Staging
from plait.data_provider.zip import ZipFileStaging
from plait.dataflow.dependency_resolvers import (
    DEEP_DEPENDENCY_RESOLVER,
    SHALLOW_DEPENDENCY_RESOLVER,
)
from plait.errors import ConfigurationError
from plait.executors import HighThroughputExecutor, MPIExecutor
from plait.executors.high_throughput.manager_selector import (
    BlockIdManagerSelector,
    RandomManagerSelector,
)
from plait.executors.pilot._settings import LAUNCH_FIELDS
from plait.launchers import (
    AprunLauncher,
    GnuParallelLauncher,
    JsrunLauncher,
    MpiExecLauncher,
    MpiRunLauncher,
    SimpleLauncher,
    SingleNodeLauncher,
    SrunLauncher,
    SrunMPILauncher,
    WrappedLauncher,
)
from plait.logconfigs import FileLogging, JSONLogging, NoopLogging
from plait.monitoring import MonitoringHub
from plait.monitoring.radios import FilesystemRadio, HTEXRadio
from plait.providers import (
    AdHocProvider,
    CobaltProvider,
    CondorProvider,
    FluxProvider,
    GridEngineProvider,
    LocalProvider,
    LSFProvider,
    PBSProProvider,
    SlurmProvider,
    TorqueProvider,
)
from plait.transport import LocalTransport, SSHTransport

# -- strategies ----------------------------------------------------------------------------

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(), st.text(max_size=8),
    st.binary(max_size=4), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.just(object()),
)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def other_than(accepts: Callable[[Any], bool]) -> st.SearchStrategy[Any]:
    """Values of the wrong type (or otherwise refused): anything ``accepts`` says no to."""
    return ANYTHING.filter(lambda v: not accepts(v))


def ints(low: int | None = None, high: int | None = None, none: bool = False,
         up_to: int = 1000) -> Any:
    """(bad, good) for an int field within [low, high]; good values stop at ``up_to``."""
    bad = [other_than(lambda v: _int(v) or (none and v is None))]
    if low is not None:
        bad.append(st.integers(max_value=low - 1))
    if high is not None:
        bad.append(st.integers(min_value=high + 1))
    good = st.integers(low if low is not None else -100, high if high is not None else up_to)
    return st.one_of(bad), st.one_of(good, st.none()) if none else good


def numbers(low: float, strict: bool = False, none: bool = False, inf: bool = False,
            high: float | None = None, up_to: float = 1e6) -> Any:
    """(bad, good) for a real-number field above ``low`` (``strict``) or from it, up to
    ``high``; good values stop at ``up_to``."""
    bad = [other_than(lambda v: _real(v) or (none and v is None)),
           st.just(math.nan), st.floats(max_value=low, exclude_max=not strict)]
    if not inf:
        bad.append(st.just(math.inf))
    if high is not None:
        bad.append(st.floats(min_value=high, exclude_min=True, allow_infinity=False))
    good: Any = st.floats(low, high if high is not None else up_to, exclude_min=strict)
    if inf:
        good = st.one_of(good, st.just(math.inf))
    return st.one_of(bad), st.one_of(good, st.none()) if none else good


def strs(empty: bool = False, none: bool = False) -> Any:
    """(bad, good) for a string field."""
    bad = other_than(lambda v: (isinstance(v, str) and (empty or v != ""))
                     or (none and v is None))
    good = st.text(min_size=0 if empty else 1, max_size=12)
    return bad, st.one_of(good, st.none()) if none else good


BOOLS = (other_than(lambda v: isinstance(v, bool)), st.booleans())
#: (bad, good) launch_cmd: Parsl's worker pool and Parsl-only fields are refused too
LAUNCH_CMDS = (
    st.one_of(other_than(lambda v: isinstance(v, str) or v is None), st.sampled_from([
        "process_worker_pool.py {debug}", "{python} {logconf}", "{python} {debug", "x}"])),
    st.one_of(st.none(), st.text(alphabet="abc -=/", min_size=1, max_size=12),
              st.lists(st.sampled_from(sorted(LAUNCH_FIELDS)), min_size=1, max_size=4).map(
                  lambda fields: "{python} " + " ".join(f"--x={{{f}}}" for f in fields))))


def choices(*allowed: Any) -> Any:
    return other_than(lambda v: v in allowed), st.sampled_from(allowed)


def callables(none: bool = True) -> Any:
    return (other_than(lambda v: callable(v) or (none and v is None)),
            st.one_of(st.just(lambda *a: 0.0), *([st.none()] if none else [])))


def instances(good: st.SearchStrategy[Any], cls: type, none: bool = True) -> Any:
    """(bad, good) for an object field: anything else, or the class instead of an instance."""
    bad = st.one_of(other_than(lambda v: none and v is None), st.just(cls))
    return bad, st.one_of(good, st.none()) if none else good


STR_LISTS = (st.one_of(st.text(max_size=5), other_than(lambda v: v is None or (
    isinstance(v, list) and all(isinstance(x, str) for x in v))),
    st.lists(st.integers(), min_size=1)), st.one_of(st.none(), st.lists(st.text(max_size=5))))

def str_maps() -> Any:
    """(bad, good) for a dict of strings to strings, or None (tags, environment, ...)."""
    def ok(v: Any) -> bool:
        return v is None or (isinstance(v, dict) and all(
            isinstance(k, str) and isinstance(x, str) for k, x in v.items()))
    return (st.one_of(other_than(ok), st.dictionaries(st.text(max_size=3), st.integers(),
                                                      min_size=1, max_size=2)),
            st.one_of(st.none(), st.dictionaries(st.text(max_size=4), st.text(max_size=4),
                                                 max_size=2)))


HHMMSS = st.builds(lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}",
                   st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
#: (bad, good) for an "HH:MM:SS" field that may be None
PERIODS = (st.one_of(st.text(max_size=8).filter(lambda t: t.count(":") != 2),
                     other_than(lambda v: isinstance(v, str) or v is None)),
           st.one_of(st.none(), HHMMSS))
def _port_pair(v: Any) -> bool:
    """A valid (low, high) port range: a list such as [1, 2] is one too."""
    return (isinstance(v, (tuple, list)) and len(v) == 2 and all(_int(p) for p in v)
            and 0 < v[0] < v[1] <= 65536)


PORT_PAIRS = st.tuples(st.integers(1, 30000), st.integers(1, 30000)).map(
    lambda p: (p[0], p[0] + p[1]))


STAGING_LISTS = (st.one_of(other_than(lambda v: v is None or isinstance(v, list)),
                           st.just([NoOpFileStaging]), st.lists(st.integers(), min_size=1)),
                 st.one_of(st.none(), st.just([]), st.just([NoOpFileStaging()])))
RADIOS = (st.one_of(other_than(lambda v: v is None), st.just(HTEXRadio)),
          st.one_of(st.none(), st.builds(HTEXRadio), st.builds(FilesystemRadio)))
TRANSPORTS = (st.one_of(other_than(lambda v: v is None), st.just(LocalTransport)),
              st.one_of(st.none(), st.builds(LocalTransport), st.just(SSHTransport("h"))))


# -- the table -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One field of one constructor: values it refuses, values it accepts."""

    make: Callable[..., object]
    field: str
    spec: tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]  # (bad, good)
    base: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{getattr(self.make, '__name__', self.make)}.{self.field}"

    __repr__ = __str__

    def build(self, value: Any) -> object:
        return self.make(**{**self.base, self.field: value})


CONFIG = [Row(Config, name, spec) for name, spec in [
    ("executors", (st.one_of(st.builds(HighThroughputExecutor), st.builds(ThreadPoolExecutor),
                             st.integers(), st.text(min_size=1), st.just({"a": 1}),
                             st.lists(st.integers(), min_size=1)),
                   st.one_of(st.none(), st.builds(lambda: [ThreadPoolExecutor()])))),
    ("exit_mode", choices("cleanup", "skip", "wait")),
    ("checkpoint_mode", choices("task_exit", "periodic", "dfk_exit", "manual", None)),
    ("strategy", (choices("simple", "htex_auto_scale", "none", None)[0],  # None: deprecated
                  st.sampled_from(["simple", "htex_auto_scale", "none"]))),
    ("retries", ints(0)),
    ("infrastructure_retries", ints(0)),
    ("internal_tasks_max_threads", ints(1)),
    ("usage_tracking", (st.one_of(st.integers(max_value=-1), st.integers(min_value=4),
                                  other_than(lambda v: isinstance(v, int))),
                        st.one_of(st.integers(0, 3), st.booleans()))),
    ("strategy_period", numbers(0, strict=True)),
    ("max_idletime", numbers(0, inf=True)),
    ("garbage_collect", BOOLS),
    ("initialize_logging", BOOLS),
    ("app_cache", BOOLS),
    ("retry_handler", callables()),
    ("std_autopath", callables()),
    ("run_dir", strs()),
    ("project_name", strs(empty=True, none=True)),
    ("log_level", ints(0, 50)),
    ("memoizer", instances(st.builds(BasicMemoizer), BasicMemoizer)),
    ("dependency_resolver", instances(
        st.sampled_from([SHALLOW_DEPENDENCY_RESOLVER, DEEP_DEPENDENCY_RESOLVER]), type)),
    ("retry_backoff", instances(st.builds(RetryBackoff), RetryBackoff)),
    ("checkpoint_period", PERIODS),
    ("checkpoint_files", STR_LISTS),
    ("monitoring", instances(st.builds(MonitoringHub), MonitoringHub)),
    ("log_config", instances(st.builds(NoopLogging), NoopLogging)),
]]

THREADS = [Row(ThreadPoolExecutor, name, spec) for name, spec in [
    ("label", strs()),
    ("max_threads", ints(1, none=True)),
    ("thread_name_prefix", strs(none=True)),
    ("working_dir", strs(none=True)),
    ("storage_access", STAGING_LISTS),
    ("remote_monitoring_radio", RADIOS),
    ("sandbox", BOOLS),
]]

HTEX = [Row(HighThroughputExecutor, name, spec) for name, spec in [
    ("label", strs()),
    ("provider", instances(st.builds(LocalProvider), LocalProvider)),
    ("launch_cmd", LAUNCH_CMDS),
    ("interchange_launch_cmd", STR_LISTS),
    ("address", strs(none=True)),
    ("loopback_address", (st.one_of(st.text(alphabet="abcxyz.", max_size=8), other_than(
        lambda v: isinstance(v, str))), st.sampled_from(["127.0.0.1", "::1", "10.0.0.5"]))),
    ("worker_port", ints(1, 65535, none=True)),
    ("worker_port_range", (st.one_of(PORT_PAIRS.map(lambda p: (p[1], p[0])),
                                     st.tuples(st.integers(60000, 70000), st.just(70001)),
                                     st.just((5, 5)), st.just((1, 2, 3)),
                                     other_than(_port_pair)),
                           PORT_PAIRS)),
    ("interchange_port_range", (st.one_of(PORT_PAIRS.map(lambda p: (p[1], p[0])),
                                          other_than(_port_pair)),
                                PORT_PAIRS)),
    ("working_dir", strs(none=True)),
    ("worker_logdir_root", strs(none=True)),
    ("storage_access", STAGING_LISTS),
    ("remote_monitoring_radio", RADIOS),
    ("worker_debug", BOOLS),
    ("encrypted", BOOLS),
    ("sandbox", BOOLS),
    ("cores_per_worker", numbers(0, strict=True)),
    ("mem_per_worker", numbers(0, none=True)),
    ("max_workers_per_node", (st.one_of(st.integers(max_value=0), st.just(1.5),
                                        other_than(lambda v: _int(v) or v is None
                                                   or v == math.inf)),
                              st.one_of(st.integers(1, 512), st.none(), st.just(math.inf)))),
    ("prefetch_capacity", ints(0, none=True)),
    ("shared_cache_bytes", ints(0)),
    ("heartbeat_period", numbers(0, strict=True, up_to=7.9)),  # below the threshold (8)
    ("heartbeat_threshold", numbers(2.0, strict=True)),  # above the period (2)
    ("address_probe_timeout", numbers(0, strict=True, none=True)),
    ("drain_period", numbers(0, strict=True, none=True)),
    ("poll_period", numbers(0)),
    ("start_timeout", numbers(0, strict=True)),
    ("cpu_affinity", (other_than(lambda v: isinstance(v, str) and (
        v in ("none", "block", "block-reverse", "alternating") or v.startswith("list:"))),
        st.sampled_from(["none", "block", "block-reverse", "alternating", "list:0:1"]))),
    ("available_accelerators", (st.one_of(st.integers(max_value=-1), st.text(min_size=1),
                                          st.lists(st.integers(), min_size=1)),
                                st.one_of(st.integers(0, 8), st.lists(st.text(max_size=3))))),
    ("block_error_handler", (other_than(lambda v: isinstance(v, bool) or callable(v)),
                             st.one_of(st.booleans(), st.just(lambda ex, status: None)))),
    ("manager_selector", instances(st.sampled_from([RandomManagerSelector(),
                                                    BlockIdManagerSelector()]),
                                   RandomManagerSelector)),
]]

MPI = [Row(MPIExecutor, name, spec) for name, spec in [
    ("max_workers_per_block", ints(1)),
    ("mpi_launcher", choices("mpiexec", "srun", "aprun")),
    ("provider", (st.one_of(ANYTHING.filter(lambda v: v is not None),
                            st.builds(LocalProvider), st.just(LocalProvider)),
                  st.one_of(st.none(), st.builds(LocalProvider, launcher=st.builds(
                      SimpleLauncher))))),
]]

LAUNCHER_INSTANCES = st.sampled_from([SingleNodeLauncher(), SimpleLauncher(), SrunLauncher(),
                                      MpiExecLauncher(), GnuParallelLauncher()])
LOCAL = [Row(LocalProvider, name, spec, {"max_blocks": 10}) for name, spec in [
    ("label", strs()),
    ("nodes_per_block", ints(1)),
    ("launcher", instances(LAUNCHER_INSTANCES, SingleNodeLauncher)),
    ("init_blocks", ints(0, 10)),  # 10: max_blocks
    ("min_blocks", ints(0, 10)),
    ("worker_init", strs(empty=True)),
    ("cmd_timeout", numbers(0, strict=True)),
    ("parallelism", numbers(0, high=1)),
    ("walltime", PERIODS),
    ("cancel_grace", numbers(0)),
]] + [Row(LocalProvider, "max_blocks", ints(0), {"init_blocks": 0})]

WALLTIMES = (st.one_of(st.text(max_size=8).filter(lambda t: t.count(":") != 2),
                       other_than(lambda v: isinstance(v, str))), HHMMSS)
SLURM = [Row(SlurmProvider, name, spec, {"max_blocks": 10}) for name, spec in [
    ("nodes_per_block", ints(1)),
    ("init_blocks", ints(0, 10)),
    ("min_blocks", ints(0, 10)),
    ("parallelism", numbers(0, high=1)),
    ("walltime", WALLTIMES),
    ("cmd_timeout", numbers(0, strict=True)),
    ("launcher", instances(LAUNCHER_INSTANCES, SingleNodeLauncher)),  # None: the default
    ("worker_init", strs(empty=True)),
    ("scheduler_options", strs(empty=True)),
    ("partition", strs(none=True)),
    ("account", strs(none=True)),
    ("qos", strs(none=True)),
    ("constraint", strs(none=True)),
    ("clusters", strs(none=True)),
    ("gres", strs(none=True)),
    ("cores_per_node", ints(1, none=True)),
    ("mem_per_node", ints(1, none=True)),
    ("gpus_per_node", ints(1, none=True)),
    ("status_batch_size", ints(1, none=True)),
    ("exclusive", BOOLS),
    ("status_min_interval", numbers(0)),
    ("submit_min_interval", numbers(0)),
    ("drain_margin", numbers(0, none=True)),
    ("transport", TRANSPORTS),
]]


def batch_rows(cls: type, *fields: tuple[str, Any], base: Mapping[str, Any] | None = None,
               launcher: bool = True) -> list[Row]:
    """Rows for a batch provider: the fields every one has, then its own."""
    common = [
        ("nodes_per_block", ints(1)),
        ("init_blocks", ints(0, 10)),  # 10: max_blocks
        ("min_blocks", ints(0, 10)),
        ("parallelism", numbers(0, high=1)),
        ("walltime", WALLTIMES),
        ("cmd_timeout", numbers(0, strict=True)),
        ("worker_init", strs(empty=True)),
        ("scheduler_options", strs(empty=True)),
        ("transport", TRANSPORTS),
    ]
    if launcher:
        common.append(("launcher", instances(LAUNCHER_INSTANCES, SingleNodeLauncher)))
    given = {"max_blocks": 10} if base is None else base
    return [Row(cls, name, spec, given) for name, spec in [*common, *fields]]


BATCH = [
    *batch_rows(TorqueProvider, ("account", strs(empty=True, none=True)),
                ("queue", strs(empty=True, none=True))),
    *batch_rows(PBSProProvider, ("account", strs(empty=True, none=True)),
                ("queue", strs(empty=True, none=True)),
                ("select_options", strs(empty=True, none=True)),
                ("cpus_per_node", ints(1, none=True))),
    *batch_rows(CondorProvider, ("cores_per_slot", ints(1, none=True)),
                ("mem_per_slot", numbers(0, strict=True, none=True)),
                ("environment", str_maps()), ("project", strs(empty=True, none=True)),
                ("requirements", strs(empty=True, none=True)),
                ("transfer_input_files", STR_LISTS), ("cmd_chunk_size", ints(1, none=True))),
    *batch_rows(GridEngineProvider, ("queue", strs(empty=True, none=True))),
    *batch_rows(LSFProvider, ("cores_per_block", ints(1, none=True)),
                ("cores_per_node", ints(1, none=True)),
                ("project", strs(empty=True, none=True)),
                ("queue", strs(empty=True, none=True)),
                ("bsub_redirection", BOOLS), ("request_by_nodes", BOOLS)),
    *batch_rows(CobaltProvider, ("account", strs(empty=True, none=True)),
                ("queue", strs(empty=True, none=True))),
    *batch_rows(FluxProvider, ("queue", strs(empty=True, none=True)),
                ("cores_per_node", ints(1, none=True))),
]
HOSTS = [SSHTransport("a"), SSHTransport("b")]
ADHOC = [Row(AdHocProvider, name, spec, {"channels": HOSTS}) for name, spec in [
    ("init_blocks", ints(0, 2, none=True)),  # 2: one block per host; None: one per host
    ("min_blocks", ints(0, 2)),
    ("parallelism", numbers(0, high=1)),
    ("cmd_timeout", numbers(0, strict=True)),
    ("worker_init", strs(empty=True)),
    ("launcher", instances(LAUNCHER_INSTANCES, SingleNodeLauncher)),
]] + [Row(AdHocProvider, "channels", (st.one_of(
    st.just([]), st.just(()), st.just([LocalTransport]), st.lists(st.integers(), min_size=1),
    other_than(lambda v: isinstance(v, (list, tuple)))),
    st.lists(st.sampled_from(HOSTS), min_size=1, max_size=3)))]

SSH = [Row(SSHTransport, name, spec, {"hostname": "h"}) for name, spec in [
    ("hostname", strs()),
    ("username", strs(none=True)),
    ("port", ints(1, 65535, none=True)),
    ("key_filename", strs(none=True)),
    ("known_hosts", strs(none=True)),
    ("host_key_policy", choices("strict", "accept-new")),
    ("script_dir", strs(none=True)),
    ("envs", str_maps()),
    ("control_path", strs(none=True)),
    ("connect_timeout", numbers(0, strict=True)),
    ("ssh_options", str_maps()),
]] + [Row(LocalTransport, "script_dir", strs(none=True)), Row(LocalTransport, "env", str_maps())]

_OVERRIDES = (SrunLauncher, SrunMPILauncher, MpiExecLauncher, MpiRunLauncher, AprunLauncher,
              JsrunLauncher)
LAUNCHERS = (
    [Row(cls, "debug", BOOLS, {"prepend": "time"} if cls is WrappedLauncher else {})
     for cls in (SingleNodeLauncher, SimpleLauncher, WrappedLauncher, GnuParallelLauncher,
                 *_OVERRIDES)]
    + [Row(cls, "overrides", strs(empty=True)) for cls in _OVERRIDES]
    + [Row(WrappedLauncher, "prepend", strs(empty=True)),
       Row(SingleNodeLauncher, "fail_on_any", BOOLS),
       Row(MpiExecLauncher, "bind_cmd", strs(empty=True)),
       Row(MpiRunLauncher, "bash_location", strs())]
)

MONITORING = [Row(MonitoringHub, name, spec) for name, spec in [
    ("workflow_name", strs(empty=True, none=True)),
    ("workflow_version", strs(empty=True, none=True)),
    ("logging_endpoint", (st.one_of(
        st.text(alphabet="ab:/", max_size=6).filter(lambda t: "://" not in t),
        other_than(lambda v: v is None or isinstance(v, str))),
        st.sampled_from([None, "sqlite:///runinfo/m.db", "postgresql://me@db:5432/runs"]))),
    ("monitoring_debug", BOOLS),
    ("resource_monitoring_enabled", BOOLS),
    ("resource_monitoring_interval", numbers(0)),
]]

# File: a malformed URL is a FileURLError, a ConfigurationError of the field "url" (a value
# of another type is a TypeError, as in Parsl, and stays out of this table)
MALFORMED_URLS = ["", "a\x00b", "http://", "https:///x", "http://bad host/x", "http://h:0/x",
                  "http://h:99999/x", "http://[::1/x", "http://h/x#frag", "ftp:///a",
                  "ftp://h/", "rsync://h", "me@cluster:", "globus:///x", "globus://ep/",
                  "s3:///k", "s3://b", "zip:/a/b.txt", "file://otherhost/x"]
GOOD_URLS = st.one_of(
    st.from_regex(r"[A-Za-z0-9_./-]{1,30}", fullmatch=True),
    st.sampled_from(["file:///abs/x", "https://h.org:8443/a/b?c=1", "ftp://u:p@h/x",
                     "me@host:dir/x", "rsync://h:22/x", "globus://ep/x", "s3://b/k",
                     "zip:/a/b.zip/m", f"http://h/x#sha256={'a' * 64}", "sp2://anything"]))
FILE = [Row(File, "url", (st.sampled_from(MALFORMED_URLS), GOOD_URLS))]

TRANSFER_OPTIONS = [
    ("cache", BOOLS),
    ("cache_dir", strs(none=True)),
    ("cache_size", ints(0)),
    ("cache_max_age", numbers(0, inf=True)),
    ("attempts", ints(1)),
    ("backoff", numbers(0)),
    ("timeout", numbers(0, strict=True)),
]
STAGING = (
    [Row(cls, name, spec) for cls in (HTTPInTaskStaging, FTPInTaskStaging, S3Staging)
     for name, spec in TRANSFER_OPTIONS]
    + [Row(cls, "where", choices("pilot", "submitter"))
       for cls in (HTTPSeparateTaskStaging, FTPSeparateTaskStaging)]
    + [Row(cls, "headers", (other_than(lambda v: v is None or (isinstance(v, dict) and all(
        isinstance(k, str) and isinstance(x, str) for k, x in v.items()))), st.one_of(
        st.none(), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))))
       for cls in (HTTPInTaskStaging, HTTPSeparateTaskStaging)]
    + [Row(cls, "where", choices("worker", "pilot", "submitter"))
       for cls in (ZipFileStaging, S3Staging, RSyncStaging)]
    + [Row(RSyncStaging, name, spec, {"relay": "me@submit-host"}) for name, spec in [
        ("hostname", strs(none=True)),
        ("direct", BOOLS),
        ("relay_dir", strs(none=True)),
        ("ssh_options", (st.one_of(st.text(min_size=1, max_size=5),
                                   st.lists(st.integers(), min_size=1), st.none()),
                         st.lists(st.text(max_size=5)))),
    ]]
    + [Row(RSyncStaging, "relay", strs(none=True))]
    + [Row(GlobusStaging, name, spec, {"endpoint_uuid": "ep"}) for name, spec in [
        ("endpoint_path", strs(none=True)),
        ("transfer_token", strs(none=True)),
        ("poll_max", numbers(0, strict=True)),
        ("deadline", numbers(0, strict=True)),
    ]]
    + [Row(GlobusStaging, "endpoint_uuid", strs())]
    + [Row(S3Staging, name, strs(none=True)) for name in ("endpoint_url", "region_name")]
)

BACKOFF = [Row(RetryBackoff, name, spec) for name, spec in [
    ("initial", numbers(0)),
    ("factor", numbers(1)),
    ("maximum", numbers(0)),
    ("jitter", (st.one_of(numbers(0)[0], st.floats(min_value=1), st.just(1)),
                st.floats(0, 1, exclude_max=True))),
]]

MEMOIZER = [Row(BasicMemoizer, name, spec) for name, spec in [
    ("memoize", BOOLS),
    ("checkpoint_files", STR_LISTS),
    ("checkpoint_mode", (choices("task_exit", "periodic", "dfk_exit", "manual", None)[0],
                         st.sampled_from(["task_exit", "dfk_exit", "manual", None]))),
    ("checkpoint_period", PERIODS),
]]

LEVELS = ints(0, 50)
LOGGING = [Row(FileLogging, "level", LEVELS), Row(FileLogging, "format_string", strs()),
           Row(JSONLogging, "level", LEVELS)]

ROWS = [*CONFIG, *THREADS, *HTEX, *MPI, *LOCAL, *SLURM, *BATCH, *ADHOC, *SSH, *LAUNCHERS,
        *MONITORING, *FILE, *STAGING, *BACKOFF, *MEMOIZER, *LOGGING]

SWEEP = settings(max_examples=25, deadline=None,
                 suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def shows(text: str, value: Any) -> bool:
    """Whether the message shows the value (or, for a container, the element at fault)."""
    if repr(value) in text:
        return True
    return isinstance(value, (list, tuple, dict, str)) and any(
        repr(v) in text for v in value)


# -- the properties -------------------------------------------------------------------------

@pytest.mark.parametrize("row", ROWS, ids=str)
@SWEEP
@given(data=st.data())
def test_refuses_bad_values_naming_field_value_and_what_is_allowed(row: Row, data: Any) -> None:
    value = data.draw(row.spec[0], label=row.field)
    with pytest.raises(ConfigurationError) as info:
        row.build(value)
    err = info.value
    assert err.field == row.field, str(err)
    assert err.allowed and shows(str(err), value), str(err)


@pytest.mark.parametrize("row", ROWS, ids=str)
@SWEEP
@given(data=st.data())
def test_accepts_good_values(row: Row, data: Any) -> None:
    row.build(data.draw(row.spec[1], label=row.field))


@SWEEP
@given(init=st.integers(0, 20), low=st.integers(0, 20), high=st.integers(0, 20))
def test_contradictory_block_counts_are_errors_at_construction(init: int, low: int,
                                                               high: int) -> None:
    args = {"init_blocks": init, "min_blocks": low, "max_blocks": high}
    if low <= high and init <= high:
        LocalProvider(**args)
        return
    with pytest.raises(ConfigurationError, match=f"at most max_blocks={high}") as info:
        LocalProvider(**args)
    assert info.value.field == ("min_blocks" if low > high else "init_blocks")


def test_a_lone_executor_is_named_with_the_fix() -> None:
    ex = HighThroughputExecutor()
    with pytest.raises(ConfigurationError, match=r"Put it in a list: executors=\[") as info:
        Config(executors=ex)
    assert info.value.field == "executors" and info.value.value is ex


# -- coverage: every public constructor is swept --------------------------------------------

#: swept in tests/providers/cloud/test_cloud_bad_input.py (their SDKs are extras)
CLOUD = {"AWSProvider", "AzureProvider", "GoogleCloudProvider", "KubernetesProvider",
         "OpenStackProvider"}


def public_constructors() -> dict[str, type]:
    """Every concrete class a user builds with arguments, by name: plait's own, the
    executors, providers, launchers, log configs, radios' users, transports and staging."""
    import importlib
    import inspect

    from plait import executors, launchers, logconfigs, providers, transport

    found: dict[str, type] = {c.__name__: c for c in (
        Config, File, RetryBackoff, BasicMemoizer, MonitoringHub, HighThroughputExecutor,
        MPIExecutor, ThreadPoolExecutor)}
    modules = [providers, launchers, logconfigs, transport, executors] + [
        importlib.import_module(f"plait.data_provider.{m}")
        for m in ("ftp", "globus", "http", "rsync", "s3", "zip", "file_noop")]
    for module in modules:
        for name in getattr(module, "__all__", ()):
            if name in CLOUD:
                continue
            obj = getattr(module, name)
            if (inspect.isclass(obj) and not inspect.isabstract(obj)
                    and not issubclass(obj, BaseException)
                    and obj.__module__.startswith("plait.")
                    and "_not_shipped" not in obj.__module__
                    and any(p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD
                            for p in inspect.signature(obj).parameters.values())):
                found[name] = obj
    return found


def test_every_public_constructor_is_swept() -> None:
    from pathlib import Path

    swept = {row.make for row in ROWS}
    missing = sorted(name for name, cls in public_constructors().items() if cls not in swept)
    # enums and records plait hands back (not built by users), and a base class
    assert set(missing) <= {"JobState", "JobStatus", "ClusterProvider"}, missing
    cloud = (Path(__file__).parent / "providers/cloud/test_cloud_bad_input.py").read_text()
    assert all(f"{name}," in cloud for name in CLOUD)
