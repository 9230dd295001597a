"""Files passed between apps, and the futures that stand for them."""

from plait.data._files import File as File
from plait.data._futures import DataFuture as DataFuture

__all__ = ["DataFuture", "File"]
