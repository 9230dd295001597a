"""Parsl's ``parsl.jobs.strategy`` path: Strategy, which scales block executors."""

from plait.scaling._poller import Strategy as Strategy

__all__ = ["Strategy"]
