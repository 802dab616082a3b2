"""Outputs: summaries -> files (call JSON, parquet, xlsx, history, summary_zh, the report)."""
