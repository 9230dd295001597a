"""Parsl's ``parsl.monitoring`` path: MonitoringHub, once plait's monitoring release has it."""

from plait._pending import resolve_later

__all__ = ["MonitoringHub"]


def __getattr__(name: str) -> object:
    return resolve_later(
        __name__, name, __all__, "plait.monitoring._hub",
        "leave Config(monitoring=...) unset for now: runs work unmonitored, and the run's "
        "plait.log records every task state change")
