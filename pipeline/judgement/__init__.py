"""Judgement: facts -> flags, risk and conduct levels, agent compliance, actions (contract v2)."""
