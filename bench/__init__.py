"""Benchmarks (`make bench`): print figures, never assert timings."""
