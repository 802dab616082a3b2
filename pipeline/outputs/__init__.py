"""Outputs: summaries -> files (call JSON, parquet, xlsx, history, summary_zh, the report).

Entry point for one call: ``call_summary(utterances, manifest, facts, judgement, ...)`` (and
``failed_summary`` for a call that could not be analysed); for a batch, ``files`` and ``report``.
"""
from __future__ import annotations

__all__ = ["call_summary", "failed_summary"]


def __getattr__(name: str):
    """The entry point is imported on first use, so importing the package loads no model library."""
    if name == "call_summary":
        from pipeline.outputs.contract_summary import call_summary

        return call_summary
    if name == "failed_summary":
        from pipeline.outputs.contract_summary import failed_summary

        return failed_summary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
