"""Benchmarks: storage formats and inference executors, one partition per case."""
