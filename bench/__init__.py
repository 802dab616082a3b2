"""Benchmarks: ``python -m bench`` (see README, section Speed)."""
