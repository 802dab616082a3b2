"""Judgement: facts -> flags, risk and conduct levels, agent compliance, actions (contract v2).

Entry point: ``judge(utterances, facts, manifest) -> Judgement``.
"""
from pipeline.lazy import lazy_exports

__all__ = ["Judgement", "judge"]
__getattr__ = lazy_exports(__name__, {"Judgement": "pipeline.judgement.call_judgement", "judge": "pipeline.judgement.call_judgement"})
