"""The call's facts to flags, levels, conduct and actions: the judgement stage's entry point, ``judge``.

Flags come from three places (the five facts against the loan's purpose, the
borrower's own words beyond the facts, the agent's conduct) and are merged to
one per code before the credit and conduct levels and the actions are read
from them, as the contract (v2) defines.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.facts.call_facts import CallFacts
from pipeline.facts.extract import FactDecision, Match
from pipeline.judgement.compliance import Compliance, assess
from pipeline.judgement.risk import Flag, actions_for, conduct_level, fact_flags, matches_contract, merge_flags, risk_level
from pipeline.speech.transcript import Utterance

BORROWER_SIDE = ("customer", "unknown")
SIGNAL_REASONS = {
    "OTHER_DEBT": ("medium", "客户提及其他贷款或负债"),
    "LITIGATION": ("high", "客户提及诉讼或法院执行"),
    "INFO_CHANGED": ("medium", "客户信息发生变化（工作、住址、电话或婚姻等）"),
    "CUSTOMER_COMPLAINT": ("medium", "客户表达不满或投诉意向"),
}


@dataclass
class Judgement:
    """What the call means for the loan and for the agent."""

    matches_contract: bool | None  # the fund use against the contract's purpose; None when the use is unknown
    flags: list[Flag]
    risk_level: str  # from credit flags only
    conduct_level: str  # from conduct flags only
    actions: list[str]
    compliance: Compliance


def judge(utterances: list[Utterance], facts: CallFacts, manifest: dict) -> Judgement:
    """Flags, risk and conduct levels, compliance and actions for one call."""
    decisions = facts.decisions
    fund = decisions["fund_use"]
    purpose = manifest.get("loan_purpose", "")
    admitted = any(m.label == "contract:mismatch" and utterances[m.utterance].speaker in BORROWER_SIDE for m in facts.matches)
    fits = matches_contract(fund.value, purpose, [utterances[i].text for i in fund.evidence], admitted)
    # fact_flags and assess read the facts as the contract states them (value, evidence, matches_contract).
    stated = {fact: {"value": d.value, "confidence": d.confidence, "evidence_idx": d.evidence} for fact, d in decisions.items()}
    stated["fund_use"]["matches_contract"] = fits

    flags = fact_flags(stated, facts.outcome.value, purpose)
    if facts.connected:
        flags += signal_flags(facts.matches, utterances, decisions)
    compliance = assess(utterances, facts.matches, stated, manifest, facts.outcome.value)
    flags = merge_flags(flags + compliance.flags)
    level = risk_level(flags)
    conduct = conduct_level(flags)
    actions = actions_for(flags, level, fund.value, fund.confidence)
    if not facts.connected:
        for flag in flags:
            if flag.code == "CONTACT_FAILED":
                flag.evidence = facts.outcome.evidence  # the carrier's message, or the other person's words
    return Judgement(fits, flags, level, conduct, actions, compliance)


def signal_flags(matches: list[Match], utterances: list[Utterance], facts: dict[str, FactDecision]) -> list[Flag]:
    """Flags that stand on the borrower's words beyond the five facts."""
    by_code: dict[str, list[int]] = {}
    for m in matches:
        if m.kind == "signal" and not m.negated and utterances[m.utterance].speaker in BORROWER_SIDE:
            by_code.setdefault(m.value, []).append(m.utterance)
    if facts["fund_use"].value == "repay_other_debt" or facts["collateral_status"].value == "re_pledged":
        source = facts["fund_use"] if facts["fund_use"].value == "repay_other_debt" else facts["collateral_status"]
        by_code.setdefault("OTHER_DEBT", []).extend(source.evidence)
    if facts["collateral_status"].value == "seized":
        by_code.setdefault("LITIGATION", []).extend(facts["collateral_status"].evidence)
    return [Flag(code, SIGNAL_REASONS[code][0], SIGNAL_REASONS[code][1], sorted(set(idx))) for code, idx in by_code.items()]
