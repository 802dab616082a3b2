"""Judgement: facts -> flags, risk and conduct levels, agent compliance, actions (contract v2).

Entry point: ``judge(utterances, facts, manifest) -> Judgement``.
"""
from __future__ import annotations

__all__ = ["Judgement", "judge"]


def __getattr__(name: str):
    """The entry point is imported on first use, so importing the package loads no model library."""
    if name == "Judgement":
        from pipeline.judgement.call_judgement import Judgement

        return Judgement
    if name == "judge":
        from pipeline.judgement.call_judgement import judge

        return judge
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
