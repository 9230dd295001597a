"""Every Parsl import path a user writes, under plait's name, with the kind of each name.

Kinds: ``class``, ``function`` (any callable that is not a class), ``constant`` (any other
object).

Checked once against Parsl 2026.10.26 (each Parsl name has the same kind there); see
/work/notes/issue-16.md for the Parsl paths that are not in this table, and why.
"""

from __future__ import annotations

C, F, K = "class", "function", "constant"

PATHS: dict[str, dict[str, str]] = {
    "plait": {
        "AUTO_LOGNAME": K, "Config": C, "DataFlowKernel": C, "DataFlowKernelLoader": C,
        "File": C, "HighThroughputExecutor": C, "MonitoringHub": C, "ThreadPoolExecutor": C,
        "WorkQueueExecutor": C, "bash_app": F, "clear": F, "dfk": F, "join_app": F,
        "load": F, "python_app": F, "set_file_logger": F, "set_stream_logger": F,
        "wait_for_current_tasks": F, "__version__": K,
    },
    "plait.addresses": {
        "address_by_hostname": F, "address_by_interface": F, "address_by_query": F,
        "address_by_route": F, "get_all_addresses": F, "get_any_address": F, "tcp_url": F,
    },
    "plait.app.app": {"AppBase": C, "bash_app": F, "join_app": F, "python_app": F},
    "plait.app.bash": {"BashApp": C},
    "plait.app.errors": {
        "AppBadFormatting": C, "AppException": C, "AppTimeout": C, "BadStdStreamFile": C,
        "BashAppNoReturn": C, "BashExitFailure": C, "MissingOutputs": C, "ParslError": C,
    },
    "plait.app.futures": {"DataFuture": C},
    "plait.app.python": {"PythonApp": C, "timeout": F},
    "plait.concurrent": {"ParslPoolExecutor": C},
    "plait.config": {"Config": C},
    "plait.data_provider.data_manager": {"DataManager": C, "default_staging": K},
    "plait.data_provider.file_noop": {"NoOpFileStaging": C},
    "plait.data_provider.files": {"File": C},
    "plait.data_provider.ftp": {"FTPInTaskStaging": C, "FTPSeparateTaskStaging": C},
    "plait.data_provider.globus": {"GlobusStaging": C},
    "plait.data_provider.http": {"HTTPInTaskStaging": C, "HTTPSeparateTaskStaging": C},
    "plait.data_provider.rsync": {"RSyncStaging": C},
    "plait.data_provider.staging": {"Staging": C},
    "plait.data_provider.zip": {"ZipAuthorityError": C, "ZipFileStaging": C},
    "plait.dataflow.dependency_resolvers": {
        "DEEP_DEPENDENCY_RESOLVER": K, "DependencyResolver": C,
        "SHALLOW_DEPENDENCY_RESOLVER": K,
    },
    "plait.dataflow.dflow": {"DataFlowKernel": C, "DataFlowKernelLoader": C},
    "plait.dataflow.errors": {
        "BadCheckpoint": C, "DataFlowException": C, "DependencyError": C, "JoinError": C,
        "PropagatedException": C,
    },
    "plait.dataflow.futures": {"AppFuture": C},
    "plait.dataflow.memoization": {
        "BasicMemoizer": C, "Memoizer": C, "id_for_memo": F, "make_hash": F,
    },
    "plait.dataflow.rundirs": {"make_rundir": F},
    "plait.dataflow.states": {"FINAL_FAILURE_STATES": K, "FINAL_STATES": K, "States": C},
    "plait.dataflow.taskrecord": {"TaskRecord": C},
    "plait.errors": {
        "ConfigurationError": C, "InternalConsistencyError": C, "NoDataFlowKernelError": C,
        "OptionalModuleMissing": C, "ParslError": C,
    },
    "plait.executors": {
        "FluxExecutor": C, "GlobusComputeExecutor": C, "HighThroughputExecutor": C,
        "MPIExecutor": C, "ThreadPoolExecutor": C, "WorkQueueExecutor": C,
    },
    "plait.executors.base": {"ParslExecutor": C},
    "plait.executors.errors": {
        "BadMessage": C, "BadStateException": C, "ExecutorError": C,
        "InvalidResourceSpecification": C, "ScalingFailed": C, "UnsupportedFeatureError": C,
    },
    "plait.executors.flux.executor": {"FluxExecutor": C},
    "plait.executors.globus_compute": {"GlobusComputeExecutor": C},
    "plait.executors.high_throughput.errors": {
        "ManagerLost": C, "VersionMismatch": C, "WorkerLost": C,
    },
    "plait.executors.high_throughput.executor": {
        "DEFAULT_LAUNCH_CMD": K, "HighThroughputExecutor": C,
    },
    "plait.executors.high_throughput.manager_record": {"ManagerRecord": C},
    "plait.executors.high_throughput.manager_selector": {
        "BlockIdManagerSelector": C, "ManagerSelector": C, "RandomManagerSelector": C,
    },
    "plait.executors.high_throughput.mpi_executor": {"MPIExecutor": C},
    "plait.executors.radical": {"RadicalPilotExecutor": C, "ResourceConfig": C},
    "plait.executors.radical.executor": {"RadicalPilotExecutor": C},
    "plait.executors.status_handling": {"BlockProviderExecutor": C},
    "plait.executors.taskvine": {
        "TaskVineExecutor": C, "TaskVineFactoryConfig": C, "TaskVineManagerConfig": C,
    },
    "plait.executors.taskvine.errors": {
        "TaskVineFactoryFailure": C, "TaskVineManagerFailure": C, "TaskVineTaskFailure": C,
    },
    "plait.executors.taskvine.executor": {"TaskVineExecutor": C},
    "plait.executors.taskvine.factory_config": {"TaskVineFactoryConfig": C},
    "plait.executors.taskvine.manager_config": {"TaskVineManagerConfig": C},
    "plait.executors.threads": {"ThreadPoolExecutor": C},
    "plait.executors.workqueue.errors": {"WorkQueueFailure": C, "WorkQueueTaskFailure": C},
    "plait.executors.workqueue.executor": {"WorkQueueExecutor": C},
    "plait.jobs.error_handlers": {
        "noop_error_handler": F, "simple_error_handler": F, "windowed_error_handler": F,
    },
    "plait.jobs.errors": {"TooManyJobFailuresError": C},
    "plait.jobs.job_status_poller": {"JobStatusPoller": C},
    "plait.jobs.states": {"JobState": C, "JobStatus": C, "TERMINAL_STATES": K},
    "plait.jobs.strategy": {"Strategy": C},
    "plait.launchers": {
        "AprunLauncher": C, "GnuParallelLauncher": C, "JsrunLauncher": C,
        "MpiExecLauncher": C, "MpiRunLauncher": C, "SimpleLauncher": C,
        "SingleNodeLauncher": C, "SrunLauncher": C, "SrunMPILauncher": C,
        "WrappedLauncher": C,
    },
    "plait.launchers.base": {"Launcher": C},
    "plait.launchers.errors": {"BadLauncher": C},
    "plait.launchers.launchers": {
        "AprunLauncher": C, "GnuParallelLauncher": C, "JsrunLauncher": C,
        "MpiExecLauncher": C, "MpiRunLauncher": C, "SimpleLauncher": C,
        "SingleNodeLauncher": C, "SrunLauncher": C, "SrunMPILauncher": C,
        "WrappedLauncher": C,
    },
    "plait.log_utils": {"set_file_logger": F, "set_stream_logger": F},
    "plait.logconfigs.base": {"LogConfig": C},
    "plait.logconfigs.file": {"FileLogging": C},
    "plait.logconfigs.json": {"JSONLogging": C},
    "plait.logconfigs.noop": {"NoopLogging": C},
    "plait.monitoring": {"MonitoringHub": C},
    "plait.monitoring.errors": {"MonitoringRouterStartError": C, "RadioRequiredError": C},
    "plait.monitoring.monitoring": {"MonitoringHub": C},
    "plait.monitoring.radios.base": {"RadioConfig": C},
    "plait.monitoring.radios.filesystem": {"FilesystemRadio": C},
    "plait.monitoring.radios.htex": {"HTEXRadio": C},
    "plait.monitoring.radios.multiprocessing": {"MultiprocessingQueueRadio": C},
    "plait.monitoring.radios.udp": {"UDPRadio": C},
    "plait.process_loggers": {"wrap_with_logs": F},
    "plait.providers": {
        "AWSProvider": C, "AzureProvider": C, "CondorProvider": C, "GoogleCloudProvider": C,
        "GridEngineProvider": C, "KubernetesProvider": C, "LSFProvider": C,
        "LocalProvider": C, "PBSProProvider": C, "SlurmProvider": C, "TorqueProvider": C,
    },
    "plait.providers.aws.aws": {"AWSProvider": C},
    "plait.providers.azure.azure": {"AzureProvider": C},
    "plait.providers.base": {"ExecutionProvider": C},
    "plait.providers.cluster_provider": {"ClusterProvider": C},
    "plait.providers.condor.condor": {"CondorProvider": C},
    "plait.providers.errors": {
        "ExecutionProviderException": C, "ScaleOutFailed": C, "SchedulerMissingArgs": C,
        "ScriptPathError": C, "SubmitException": C,
    },
    "plait.providers.googlecloud.googlecloud": {"GoogleCloudProvider": C},
    "plait.providers.grid_engine.grid_engine": {"GridEngineProvider": C},
    "plait.providers.kubernetes.kube": {"KubernetesProvider": C},
    "plait.providers.local.local": {"LocalProvider": C},
    "plait.providers.lsf.lsf": {"LSFProvider": C},
    "plait.providers.pbspro.pbspro": {"PBSProProvider": C},
    "plait.providers.slurm.slurm": {"SlurmProvider": C},
    "plait.providers.torque.torque": {"TorqueProvider": C},
    "plait.serialize": {"deserialize": F, "pack_apply_message": F, "serialize": F,
                        "unpack_apply_message": F},
    "plait.serialize.base": {"SerializerBase": C},
    "plait.serialize.concretes": {
        "DillCallableSerializer": C, "DillSerializer": C, "PickleSerializer": C,
    },
    "plait.serialize.facade": {
        "deserialize": F, "pack_apply_message": F, "register_method_for_code": F,
        "register_method_for_data": F, "serialize": F, "unpack_apply_message": F,
    },
    "plait.serialize.errors": {
        "DeserializationError": C, "DeserializerPluginError": C, "SerializationError": C,
    },
    "plait.usage_tracking.levels": {"DISABLED": K, "LEVEL_1": K, "LEVEL_2": K, "LEVEL_3": K},
    "plait.utils": {"RepresentationMixin": C, "Timer": C, "get_all_checkpoints": F,
                    "get_last_checkpoint": F},
    "plait.version": {"VERSION": K},
}

#: plait's names for Parsl names it ships under another name: (path, Parsl name) -> flat name
ALIASES = {
    ("plait.jobs.errors", "TooManyJobFailuresError"): "plait.errors.TooManyJobFailures",
    ("plait.dataflow.taskrecord", "TaskRecord"): "plait.dataflow._task.Task",
    ("plait.app.errors", "ParslError"): "plait.errors.PlaitError",
    ("plait.errors", "ParslError"): "plait.errors.PlaitError",
    ("plait.executors.base", "ParslExecutor"): "plait.executors.Executor",
}

#: public paths plait ships that Parsl does not have (named as Parsl would name them)
PLAIT_ADDITIONS: dict[str, dict[str, str]] = {
    "plait.providers.adhoc.adhoc": {"AdHocProvider": C},  # Parsl's, removed in 2024
    "plait.data_provider.s3": {"S3Staging": C},
    "plait.providers.cobalt.cobalt": {"CobaltProvider": C},
    "plait.providers.flux.flux": {"FluxProvider": C},
    "plait.providers.openstack.openstack": {"OpenStackProvider": C},
}
