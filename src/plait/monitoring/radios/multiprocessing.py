"""Parsl's path for MultiprocessingQueueRadio (``parsl.monitoring.radios.multiprocessing``)."""

from plait.monitoring.radios._radios import MultiprocessingQueueRadio as MultiprocessingQueueRadio

__all__ = ["MultiprocessingQueueRadio"]
