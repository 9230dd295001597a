"""Parsl's ``parsl.executors.high_throughput`` package: paths to the pilot executor."""
