"""The public face: exactly the documented names, all importable, and a cheap import."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import plait

DOCUMENTED = {
    "plait": {
        "AUTO_LOGNAME", "AppFuture", "BasicMemoizer", "CheckpointWarning", "Config",
        "DataFlowKernel", "DataFlowKernelLoader", "DataFuture", "FailedTask", "File",
        "HighThroughputExecutor", "Memoizer", "MonitoringHub", "RetryBackoff", "States",
        "TaskStateChanged", "ThreadPoolExecutor", "WorkQueueExecutor", "bash_app", "clear",
        "dfk", "get_all_checkpoints", "get_last_checkpoint", "id_for_memo", "join_app", "load",
        "python_app", "set_file_logger", "set_stream_logger", "wait_for_current_tasks",
    },
    "plait.utils": {"RepresentationMixin", "Timer", "get_all_checkpoints", "get_last_checkpoint"},
    "plait.dataflow.memoization": {"BasicMemoizer", "CheckpointWarning", "Memoizer",
                                   "id_for_memo", "make_hash"},
    "plait.data": {"DataFuture", "File", "Staging", "TransferStaging"},
    "plait.data_provider.staging": {"Staging"},
    "plait.data_provider.data_manager": {"DataManager", "default_staging"},
    "plait.data_provider.file_noop": {"NoOpFileStaging"},
    "plait.data_provider.http": {"HTTPInTaskStaging", "HTTPSeparateTaskStaging"},
    "plait.data_provider.ftp": {"FTPInTaskStaging", "FTPSeparateTaskStaging"},
    "plait.data_provider.zip": {"ZipAuthorityError", "ZipFileStaging"},
    "plait.data_provider.rsync": {"RSyncStaging"},
    "plait.data_provider.s3": {"S3Staging"},
    "plait.data_provider.globus": {"GlobusStaging"},
    "plait.providers": {"TERMINAL_STATES", "AWSProvider", "AdHocProvider", "AzureProvider",
                        "ClusterProvider", "CobaltProvider", "CondorProvider", "ExecutionProvider",
                        "ExecutionProviderException", "FluxProvider", "GoogleCloudProvider",
                        "GridEngineProvider", "JobState", "JobStatus", "KubernetesProvider",
                        "LSFProvider", "LocalProvider", "OpenStackProvider", "PBSProProvider",
                        "SSHTransport", "ScaleOutFailed", "SchedulerMissingArgs",
                        "ScriptPathError", "SlurmProvider", "SubmitException", "TorqueProvider"},
    "plait.launchers": {"AprunLauncher", "BadLauncher", "GnuParallelLauncher",
                        "JsrunLauncher", "Launcher", "MpiExecLauncher", "MpiRunLauncher",
                        "SimpleLauncher", "SingleNodeLauncher", "SrunLauncher",
                        "SrunMPILauncher", "WrappedLauncher"},
    "plait.sites": {"SiteEntry", "SiteError", "add", "config", "list", "show", "update",
                    "validate"},
    "plait.concurrent": {"ParslPoolExecutor"},
    "plait.migrate": {"FEATURES", "Feature", "FileResult", "Finding", "migrate_file",
                      "migrate_source"},
    "plait.logconfigs": {"FileLogging", "JSONLogging", "LogConfig", "NoopLogging"},
    "plait.executors": {"Executor", "FluxExecutor", "GlobusComputeExecutor",
                        "HighThroughputExecutor", "MPIExecutor", "ParslExecutor",
                        "ThreadPoolExecutor", "WorkQueueExecutor"},
    "plait.monitoring": {"MonitoringDatabaseError", "MonitoringError", "MonitoringHub",
                         "MonitoringRouterStartError", "RadioRequiredError", "RunWidget",
                         "progress"},
    "plait.monitoring.monitoring": {"MonitoringHub"},
    "plait.monitoring.errors": {"MonitoringRouterStartError", "RadioRequiredError"},
    "plait.monitoring.radios": {"FilesystemRadio", "HTEXRadio", "MultiprocessingQueueRadio",
                                "RadioConfig", "UDPRadio"},
    "plait.monitoring.radios.base": {"RadioConfig"},
    "plait.monitoring.radios.htex": {"HTEXRadio"},
    "plait.monitoring.radios.udp": {"UDPRadio"},
    "plait.monitoring.radios.filesystem": {"FilesystemRadio"},
    "plait.monitoring.radios.multiprocessing": {"MultiprocessingQueueRadio"},
    "plait.usage_tracking": {"DISABLED", "ENDPOINT_ENV", "LEVEL_1", "LEVEL_2", "LEVEL_3",
                             "UsageTracker", "messages"},
    "plait.usage_tracking.levels": {"DISABLED", "LEVEL_1", "LEVEL_2", "LEVEL_3"},
    "plait.cwl": {"CWLApp", "CWLError", "CWLInputError", "CWLStepFailed",
                  "CWLUnsupportedRequirement", "CWLValidationError", "load_tool",
                  "load_workflow"},
}

PUBLIC_MODULES = ["plait", "plait.errors", "plait.executors", "plait.data", "plait.config",
                  "plait.app.app", "plait.app.errors", "plait.app.futures",
                  "plait.dataflow.dflow", "plait.dataflow.futures", "plait.dataflow.states",
                  "plait.dataflow.errors", "plait.dataflow.dependency_resolvers",
                  "plait.data_provider.files", "plait.data_provider.staging",
                  "plait.data_provider.data_manager", "plait.data_provider.file_noop",
                  "plait.data_provider.http", "plait.data_provider.ftp",
                  "plait.data_provider.zip", "plait.data_provider.rsync",
                  "plait.data_provider.s3", "plait.data_provider.globus",
                  "plait.providers", "plait.launchers",
                  "plait.utils", "plait.dataflow.memoization", "plait.sites",
                  "plait.concurrent", "plait.logconfigs", "plait.addresses",
                  "plait.migrate", "plait.monitoring",
                  "plait.monitoring.monitoring", "plait.monitoring.errors",
                  "plait.usage_tracking", "plait.usage_tracking.levels",
                  "plait.monitoring.radios", "plait.monitoring.radios.base",
                  "plait.monitoring.radios.htex", "plait.monitoring.radios.udp",
                  "plait.monitoring.radios.filesystem", "plait.monitoring.radios.multiprocessing",
                  "plait.cwl"]


@pytest.mark.parametrize("module,names", sorted(DOCUMENTED.items()))
def test_public_names_are_exactly_the_documented_ones(module: str, names: set[str]) -> None:
    assert set(importlib.import_module(module).__all__) == names


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_exported_name_resolves(module: str) -> None:
    mod = importlib.import_module(module)
    exported = mod.__all__
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert getattr(mod, name) is not None, name


def test_star_import_works() -> None:
    namespace: dict[str, object] = {}
    exec("from plait import *", namespace)
    assert "python_app" in namespace and "HighThroughputExecutor" in namespace


def test_every_error_is_a_plait_error() -> None:
    import plait.errors as errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.PlaitError), name
    assert errors.ParslError is errors.PlaitError


def test_import_is_cheap_and_lazy() -> None:
    code = ("import sys, plait; heavy = [m for m in ('zmq', 'sqlalchemy', 'cloudpickle', "
            "'plait.dataflow._kernel', 'subprocess', 'plait.executors.pilot', 'plait.cwl', "
            "'cwltool') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_version() -> None:
    assert plait.__version__.count(".") == 2
