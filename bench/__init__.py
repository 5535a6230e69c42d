"""Load and latency benchmarks of the running appliance: `python -m bench.run` (make bench)."""
