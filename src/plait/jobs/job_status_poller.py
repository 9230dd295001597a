"""Parsl's ``parsl.jobs.job_status_poller`` path: the thread that scales block executors."""

from plait.scaling._poller import JobStatusPoller as JobStatusPoller

__all__ = ["JobStatusPoller"]
