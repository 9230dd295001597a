"""A Parsl workflow laid out as a package: apps in one module, the config in another."""
from .apps import count_words, total

__all__ = ["count_words", "total"]
