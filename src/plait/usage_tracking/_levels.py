"""The usage-tracking levels ``Config(usage_tracking=...)`` accepts (plait sends nothing)."""

DISABLED = 0
LEVEL_1 = 1
LEVEL_2 = 2
LEVEL_3 = 3
