"""Outputs: summaries -> files (call JSON, parquet, xlsx, history, summary_zh, the report).

Entry point for one call: ``call_summary(utterances, manifest, facts, judgement, ...)`` (and
``failed_summary`` for a call that could not be analysed); for a batch, ``files`` and ``report``.
"""
from pipeline.lazy import lazy_exports

__all__ = ["call_summary", "failed_summary"]
__getattr__ = lazy_exports(__name__, {"call_summary": "pipeline.outputs.contract_summary", "failed_summary": "pipeline.outputs.contract_summary"})
