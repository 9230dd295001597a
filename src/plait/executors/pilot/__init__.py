"""The pilot-job executor (HighThroughputExecutor): interchange, managers and workers on ZeroMQ."""
