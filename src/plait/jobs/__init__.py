"""Parsl's ``parsl.jobs`` package: paths to job states, scaling and block error handling."""
