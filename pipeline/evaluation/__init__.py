"""Evaluation: scoring runs against truth (sample, eval set, real-speech set, correction checks)."""
