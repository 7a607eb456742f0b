"""Benchmarks: `make bench`. Each prints its figures and a ratio to a baseline of the same run."""
