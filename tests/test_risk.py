"""Every flag and risk-level rule of the contract."""
from __future__ import annotations

import pytest

from pipeline.judgement.risk import Flag, actions_for, fact_flags, merge_flags, risk_level


def facts(**values: str) -> dict:
    base = {f: {"value": "not_mentioned", "evidence_idx": []} for f in ("fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition")}
    for fact, value in values.items():
        base[fact]["value"] = value
    base["fund_use"].setdefault("matches_contract", None)
    return base


def severities(flags: list[Flag]) -> dict[str, str]:
    return {f.code: f.severity for f in flags}


@pytest.mark.parametrize(
    "outcome, fact_values, expected",
    [
        ("not_connected", {}, {"CONTACT_FAILED": "medium"}),
        ("wrong_party", {}, {"CONTACT_FAILED": "medium"}),
        ("connected", {"fund_use": "securities_investment"}, {"FUND_MISUSE": "high"}),
        ("connected", {"fund_use": "real_estate"}, {"FUND_MISUSE": "high"}),
        ("connected", {"fund_use": "consumption"}, {"FUND_MISUSE": "high"}),
        ("connected", {"fund_use": "repay_other_debt"}, {"FUND_MISUSE": "high"}),
        ("connected", {"fund_use": "lend_to_others"}, {"FUND_MISUSE": "high"}),
        ("connected", {"fund_use": "business_operation"}, {}),
        ("connected", {"fund_use": "refused"}, {}),
        ("connected", {"repayment_ability": "strained"}, {"REPAYMENT_RISK": "medium"}),
        ("connected", {"repayment_ability": "unable"}, {"REPAYMENT_RISK": "high"}),
        ("connected", {"collateral_status": "leased"}, {"COLLATERAL_RISK": "medium"}),
        ("connected", {"collateral_status": "sold_or_transferred"}, {"COLLATERAL_RISK": "high"}),
        ("connected", {"collateral_status": "re_pledged"}, {"COLLATERAL_RISK": "high"}),
        ("connected", {"collateral_status": "seized"}, {"COLLATERAL_RISK": "high"}),
        ("connected", {"collateral_status": "damaged_or_devalued"}, {"COLLATERAL_RISK": "high"}),
        ("connected", {"project_progress": "delayed"}, {"PROJECT_RISK": "medium"}),
        ("connected", {"project_progress": "suspended"}, {"PROJECT_RISK": "high"}),
        ("connected", {"business_condition": "declining"}, {"BUSINESS_DETERIORATION": "medium"}),
        ("connected", {"business_condition": "ceased"}, {"BUSINESS_DETERIORATION": "high"}),
    ],
)
def test_fact_flags(outcome, fact_values, expected):
    assert severities(fact_flags(facts(**fact_values), outcome)) == expected


def test_business_use_against_other_contract_purpose_is_misuse():
    f = facts(fund_use="business_operation")
    f["fund_use"]["matches_contract"] = False
    assert severities(fact_flags(f, "connected")) == {"FUND_MISUSE": "high"}


def flag(code: str, severity: str) -> Flag:
    return Flag(code, severity, "")


@pytest.mark.parametrize(
    "flags, level",
    [
        ([], "low"),
        ([flag("OTHER_DEBT", "medium")], "medium"),
        ([flag("OTHER_DEBT", "medium"), flag("INFO_CHANGED", "medium")], "medium"),
        ([flag("LITIGATION", "high")], "high"),
        ([flag("LITIGATION", "high"), flag("OTHER_DEBT", "medium")], "high"),
        ([flag("LITIGATION", "high"), flag("COLLATERAL_RISK", "high")], "critical"),
        ([flag("FUND_MISUSE", "high")], "high"),
        ([flag("FUND_MISUSE", "high"), flag("INFO_CHANGED", "medium")], "critical"),
        ([flag("REPAYMENT_RISK", "medium"), flag("PROJECT_RISK", "high")], "critical"),
        ([flag("REPAYMENT_RISK", "medium"), flag("PROJECT_RISK", "medium")], "medium"),
        ([flag("REPAYMENT_RISK", "high")], "high"),
    ],
)
def test_risk_level(flags, level):
    assert risk_level(flags) == level


def test_merge_keeps_worst_severity_once():
    merged = merge_flags([flag("AGENT_NONCOMPLIANCE", "medium"), flag("AGENT_NONCOMPLIANCE", "high")])
    assert [(f.code, f.severity) for f in merged] == [("AGENT_NONCOMPLIANCE", "high")]


def test_actions_in_contract_order():
    flags = [flag("CONTACT_FAILED", "medium")]
    assert actions_for(flags, "medium", "not_mentioned", 0.9) == ["schedule_callback", "increase_followup_frequency"]
    flags = [flag("FUND_MISUSE", "high"), flag("COLLATERAL_RISK", "high")]
    assert actions_for(flags, "critical", "securities_investment", 0.9) == [
        "verify_with_documents", "require_additional_guarantee", "escalate_to_risk_committee"]
    assert actions_for([], "low", "business_operation", 0.9) == []


def test_unknown_flag_code_is_refused():
    with pytest.raises(ValueError):
        Flag("MADE_UP", "high", "")
