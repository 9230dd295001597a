"""Usage tracking levels (Parsl's ``parsl.usage_tracking.levels``)."""

DISABLED = 0  # nothing is sent (the default)
LEVEL_1 = 1  # plait version, Python version, operating system and machine type
LEVEL_2 = 2  # level 1 and the configuration's components (class names, no values)
LEVEL_3 = 3  # level 2 and, at cleanup, task counts (total, failed) and run time

__all__ = ["DISABLED", "LEVEL_1", "LEVEL_2", "LEVEL_3"]
