"""Every error class plait raises, importable from one place (see the tree in each source)."""

from plait._errors import AppBadFormatting as AppBadFormatting
from plait._errors import AppException as AppException
from plait._errors import AppTimeout as AppTimeout
from plait._errors import BadCheckpoint as BadCheckpoint
from plait._errors import BadStdStreamFile as BadStdStreamFile
from plait._errors import BashAppNoReturn as BashAppNoReturn
from plait._errors import BashExitFailure as BashExitFailure
from plait._errors import ConfigurationError as ConfigurationError
from plait._errors import DataFlowException as DataFlowException
from plait._errors import DependencyError as DependencyError
from plait._errors import DeserializationError as DeserializationError
from plait._errors import InternalConsistencyError as InternalConsistencyError
from plait._errors import JoinError as JoinError
from plait._errors import MissingOutputs as MissingOutputs
from plait._errors import NoDataFlowKernelError as NoDataFlowKernelError
from plait._errors import NotYetAvailable as NotYetAvailable
from plait._errors import OptionalModuleMissing as OptionalModuleMissing
from plait._errors import ParslError as ParslError
from plait._errors import PlaitError as PlaitError
from plait._errors import PropagatedException as PropagatedException
from plait._errors import SerializationError as SerializationError
from plait._errors import TaskCancelled as TaskCancelled
from plait.cwl._errors import CWLError as CWLError
from plait.cwl._errors import CWLInputError as CWLInputError
from plait.cwl._errors import CWLStepFailed as CWLStepFailed
from plait.cwl._errors import CWLUnsupportedRequirement as CWLUnsupportedRequirement
from plait.cwl._errors import CWLValidationError as CWLValidationError
from plait.data._errors import FileURLError as FileURLError
from plait.data._errors import NoStagingProvider as NoStagingProvider
from plait.data._errors import StagingError as StagingError
from plait.data._errors import ZipAuthorityError as ZipAuthorityError
from plait.dataflow._errors import TaskKilledWorker as TaskKilledWorker
from plait.dataflow._states import InvalidTransition as InvalidTransition
from plait.executors._errors import BadMessage as BadMessage
from plait.executors._errors import BadStateException as BadStateException
from plait.executors._errors import BlockCancelled as BlockCancelled
from plait.executors._errors import BlockFailed as BlockFailed
from plait.executors._errors import ExecutorError as ExecutorError
from plait.executors._errors import ExecutorNotShipped as ExecutorNotShipped
from plait.executors._errors import InfrastructureError as InfrastructureError
from plait.executors._errors import InterchangeLost as InterchangeLost
from plait.executors._errors import InvalidResourceSpecification as InvalidResourceSpecification
from plait.executors._errors import ManagerLost as ManagerLost
from plait.executors._errors import NodeFailure as NodeFailure
from plait.executors._errors import ScalingFailed as ScalingFailed
from plait.executors._errors import TooManyJobFailures as TooManyJobFailures
from plait.executors._errors import UnsupportedFeatureError as UnsupportedFeatureError
from plait.executors._errors import VersionMismatch as VersionMismatch
from plait.executors._errors import WalltimeExceeded as WalltimeExceeded
from plait.executors._errors import WorkerLost as WorkerLost
from plait.launchers._errors import BadLauncher as BadLauncher
from plait.monitoring._errors import MonitoringDatabaseError as MonitoringDatabaseError
from plait.monitoring._errors import MonitoringError as MonitoringError
from plait.monitoring._errors import MonitoringRouterStartError as MonitoringRouterStartError
from plait.monitoring._errors import RadioRequiredError as RadioRequiredError
from plait.providers._cloud_errors import CloudAPIError as CloudAPIError
from plait.providers._errors import ExecutionProviderException as ExecutionProviderException
from plait.providers._errors import ScaleOutFailed as ScaleOutFailed
from plait.providers._errors import SchedulerMissingArgs as SchedulerMissingArgs
from plait.providers._errors import ScriptPathError as ScriptPathError
from plait.providers._errors import SubmitException as SubmitException
from plait.sites._errors import SiteError as SiteError
from plait.transport._errors import CommandTimeout as CommandTimeout
from plait.transport._errors import TransportError as TransportError
from plait.transport._errors import TransportFailed as TransportFailed

__all__ = [
    "AppBadFormatting", "AppException", "AppTimeout", "BadCheckpoint", "BadLauncher",
    "BadMessage", "BadStateException", "BadStdStreamFile", "BashAppNoReturn", "BashExitFailure",
    "BlockCancelled", "BlockFailed", "CWLError", "CWLInputError", "CWLStepFailed",
    "CWLUnsupportedRequirement", "CWLValidationError", "CloudAPIError", "CommandTimeout",
    "ConfigurationError", "DataFlowException", "DependencyError", "DeserializationError",
    "ExecutionProviderException", "ExecutorError", "ExecutorNotShipped", "FileURLError",
    "InfrastructureError", "InterchangeLost", "InternalConsistencyError",
    "InvalidResourceSpecification", "InvalidTransition", "JoinError", "ManagerLost",
    "MissingOutputs", "MonitoringDatabaseError", "MonitoringError",
    "MonitoringRouterStartError", "NoDataFlowKernelError", "NoStagingProvider", "NodeFailure",
    "NotYetAvailable", "OptionalModuleMissing", "ParslError", "PlaitError",
    "PropagatedException", "RadioRequiredError", "ScaleOutFailed", "ScalingFailed",
    "SchedulerMissingArgs", "ScriptPathError", "SerializationError", "SiteError",
    "StagingError", "SubmitException", "TaskCancelled", "TaskKilledWorker",
    "TooManyJobFailures", "TransportError", "TransportFailed", "UnsupportedFeatureError",
    "VersionMismatch", "WalltimeExceeded", "WorkerLost", "ZipAuthorityError",
]
