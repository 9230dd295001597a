"""Files passed between apps, the futures that stand for them, and how they are staged.

The staging providers themselves live at Parsl's paths, ``plait.data_provider.*``.
"""

from plait.data._files import File as File
from plait.data._futures import DataFuture as DataFuture
from plait.data._staging import Staging as Staging
from plait.data._transfer import TransferStaging as TransferStaging

__all__ = ["DataFuture", "File", "Staging", "TransferStaging"]
