"""plait-perf: measure plait's throughput, latency and memory against a config file."""
