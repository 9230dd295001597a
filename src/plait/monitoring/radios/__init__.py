"""Radios (Parsl's names): how resource samples reach the monitoring hub from workers.

``HTEXRadio`` (the pilot executor's default), ``UDPRadio``, ``FilesystemRadio`` and
``MultiprocessingQueueRadio`` (threads); give one as an executor's
``remote_monitoring_radio=``. Parsl's module paths ``.base``, ``.htex``, ``.udp``,
``.filesystem`` and ``.multiprocessing`` are kept.
"""

from plait.monitoring.radios._radios import FilesystemRadio as FilesystemRadio
from plait.monitoring.radios._radios import HTEXRadio as HTEXRadio
from plait.monitoring.radios._radios import MultiprocessingQueueRadio as MultiprocessingQueueRadio
from plait.monitoring.radios._radios import RadioConfig as RadioConfig
from plait.monitoring.radios._radios import UDPRadio as UDPRadio

__all__ = ["FilesystemRadio", "HTEXRadio", "MultiprocessingQueueRadio", "RadioConfig",
           "UDPRadio"]
