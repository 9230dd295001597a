"""Parsl-compatible import path for app errors; see :mod:`plait.errors`."""

from plait._errors import AppBadFormatting as AppBadFormatting
from plait._errors import AppException as AppException
from plait._errors import AppTimeout as AppTimeout
from plait._errors import BadStdStreamFile as BadStdStreamFile
from plait._errors import BashAppNoReturn as BashAppNoReturn
from plait._errors import BashExitFailure as BashExitFailure
from plait._errors import MissingOutputs as MissingOutputs
from plait._errors import ParslError as ParslError

__all__ = ["AppBadFormatting", "AppException", "AppTimeout", "BadStdStreamFile",
           "BashAppNoReturn", "BashExitFailure", "MissingOutputs", "ParslError"]
