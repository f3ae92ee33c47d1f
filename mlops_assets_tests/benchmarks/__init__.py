"""Tests of the benchmark suite (benchmarks/)."""
