"""Flags, severities, risk level and actions, exactly as the contract defines them."""
from __future__ import annotations

from dataclasses import dataclass, field

from .labels import ACTIONS, FLAG_CODES, FLAG_NAMES_ZH, VALUE_NAMES_ZH

MISUSE_VALUES = {"consumption", "real_estate", "securities_investment", "repay_other_debt", "lend_to_others"}
IMPAIRED_COLLATERAL = {"sold_or_transferred", "re_pledged", "seized", "damaged_or_devalued"}


@dataclass
class Flag:
    code: str
    severity: str  # medium | high
    reason: str
    evidence: list[int] = field(default_factory=list)  # utterance indexes

    def __post_init__(self) -> None:
        if self.code not in FLAG_CODES:
            raise ValueError(f"unknown flag code {self.code}")


def fact_flags(facts: dict, outcome: str) -> list[Flag]:
    """Flags that follow from the call outcome and the five facts."""
    flags: list[Flag] = []
    if outcome in ("not_connected", "wrong_party"):
        reason = "电话未接通" if outcome == "not_connected" else "非借款人本人接听"
        flags.append(Flag("CONTACT_FAILED", "medium", reason))
    fund = facts["fund_use"]
    if fund["value"] in MISUSE_VALUES:
        flags.append(Flag("FUND_MISUSE", "high", f"客户称贷款资金{VALUE_NAMES_ZH['fund_use'][fund['value']]}", fund["evidence_idx"]))
    elif fund["value"] == "business_operation" and fund.get("matches_contract") is False:
        flags.append(Flag("FUND_MISUSE", "high", "资金实际用途与合同约定用途不符", fund["evidence_idx"]))
    repay = facts["repayment_ability"]
    if repay["value"] in ("strained", "unable"):
        severity = "high" if repay["value"] == "unable" else "medium"
        flags.append(Flag("REPAYMENT_RISK", severity, f"还款能力{VALUE_NAMES_ZH['repayment_ability'][repay['value']]}", repay["evidence_idx"]))
    coll = facts["collateral_status"]
    if coll["value"] == "leased" or coll["value"] in IMPAIRED_COLLATERAL:
        severity = "medium" if coll["value"] == "leased" else "high"
        flags.append(Flag("COLLATERAL_RISK", severity, f"抵押物{VALUE_NAMES_ZH['collateral_status'][coll['value']]}", coll["evidence_idx"]))
    project = facts["project_progress"]
    if project["value"] in ("delayed", "suspended"):
        severity = "high" if project["value"] == "suspended" else "medium"
        flags.append(Flag("PROJECT_RISK", severity, f"项目{VALUE_NAMES_ZH['project_progress'][project['value']]}", project["evidence_idx"]))
    business = facts["business_condition"]
    if business["value"] in ("declining", "ceased"):
        severity = "high" if business["value"] == "ceased" else "medium"
        flags.append(Flag("BUSINESS_DETERIORATION", severity, f"经营状况{VALUE_NAMES_ZH['business_condition'][business['value']]}", business["evidence_idx"]))
    return flags


def merge_flags(flags: list[Flag]) -> list[Flag]:
    """One flag per code, keeping the worst severity and all evidence, in contract order."""
    merged: dict[str, Flag] = {}
    for flag in flags:
        if flag.code not in merged:
            merged[flag.code] = Flag(flag.code, flag.severity, flag.reason, list(flag.evidence))
            continue
        kept = merged[flag.code]
        if flag.severity == "high" and kept.severity != "high":
            kept.severity, kept.reason = "high", flag.reason
        elif flag.reason not in kept.reason:
            kept.reason = f"{kept.reason}；{flag.reason}"
        kept.evidence = sorted(set(kept.evidence) | set(flag.evidence))
    return sorted(merged.values(), key=lambda f: FLAG_CODES.index(f.code))


def risk_level(flags: list[Flag]) -> str:
    """low/medium/high/critical by the contract's rule."""
    if not flags:
        return "low"
    high = [f for f in flags if f.severity == "high"]
    codes = {f.code for f in flags}
    if len(high) >= 2:
        return "critical"
    if "FUND_MISUSE" in codes and len(flags) >= 2:
        return "critical"
    repayment = next((f for f in flags if f.code == "REPAYMENT_RISK"), None)
    if repayment is not None and any(f.severity == "high" and f is not repayment for f in flags):
        return "critical"
    return "high" if high else "medium"


def actions_for(flags: list[Flag], level: str, fund_use: str, fund_confidence: float) -> list[str]:
    """Recommended actions, in the contract's order."""
    codes = {f.code for f in flags}
    wanted = set()
    if "CONTACT_FAILED" in codes:
        wanted.add("schedule_callback")
    if "FUND_MISUSE" in codes or "INFO_CHANGED" in codes or fund_use == "refused" or (fund_use != "not_mentioned" and fund_confidence < 0.6):
        wanted.add("verify_with_documents")
    if level == "medium":
        wanted.add("increase_followup_frequency")
    if any(f.code == "COLLATERAL_RISK" and f.severity == "high" for f in flags) or "COLLATERAL_RISK" in codes:
        wanted.add("require_additional_guarantee")
    if level in ("high", "critical"):
        wanted.add("escalate_to_risk_committee")
    return [action for action in ACTIONS if action in wanted]


def flag_name(code: str) -> str:
    return FLAG_NAMES_ZH.get(code, code)
