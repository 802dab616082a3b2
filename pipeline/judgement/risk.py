"""Flags, severities, risk level, conduct level and actions, exactly as the contract (v2) defines them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.labels import (
    ACTIONS,
    CONDUCT_FLAGS,
    CONDUCT_LEVELS,
    CREDIT_FLAGS,
    FALLBACK_LOAN_TYPE,
    FLAG_CODES,
    FLAG_NAMES_ZH,
    LOAN_PURPOSE_WORDS,
    LOAN_TYPE_ALLOWED_USE,
    VALUE_NAMES_ZH,
)

# Uses that are misuse on every loan, whatever its purpose.
ALWAYS_MISUSE = {"real_estate", "securities_investment", "repay_other_debt", "lend_to_others"}
# Uses that never raise FUND_MISUSE: nothing is known.
UNKNOWN_USE = {"not_mentioned", "refused"}
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


def loan_type(purpose: str | None) -> str:
    """The manifest's free-text loan_purpose as one of LOAN_TYPES; unplaceable text is a business loan."""
    text = str(purpose or "")
    for kind, words in LOAN_PURPOSE_WORDS.items():
        if any(word in text for word in words):
            return kind
    return FALLBACK_LOAN_TYPE


def use_fits_purpose(fund_use: str, purpose: str | None) -> bool | None:
    """Whether a fund use is allowed on a loan of this purpose (by type only); None when the use is unknown."""
    if fund_use in UNKNOWN_USE:
        return None
    if fund_use in ALWAYS_MISUSE:
        return False
    return proper_use(purpose) == fund_use


def proper_use(purpose: str | None) -> str:
    """The fund use a loan of this purpose is for: consumption on consumer and renovation loans, business_operation otherwise."""
    return LOAN_TYPE_ALLOWED_USE[loan_type(purpose)]


# Specific business uses a contract can name. A contract for working capital
# (经营周转, 流动资金) allows any of them; a contract for equipment does not
# allow spending the money on wages.
BUSINESS_USES = {
    "equipment": re.compile(r"设备|机器|机床|生产线|车床|冲床"),
    "materials": re.compile(r"原材料|原料|材料|进货|备货|货款|钢材"),
    "wages": re.compile(r"工资|薪水|发工资"),
    "rent": re.compile(r"租金|房租|厂租|店租"),
    "project": re.compile(r"项目|工程|建设|施工|工地|基建"),
}


def business_uses(text: str) -> set[str]:
    """The specific business uses a text names (a contract's purpose, or what the borrower said)."""
    return {name for name, pattern in BUSINESS_USES.items() if pattern.search(text)}


def matches_contract(fund_use: str, purpose: str, evidence_texts: list[str] | None = None, admitted_mismatch: bool = False) -> bool | None:
    """Whether the stated use fits the contract's purpose; None when the use is unknown.

    The loan's type (``loan_type``) decides which use is proper: consumption
    on a consumer or renovation loan, business_operation on every other loan;
    stocks, property, other debts and lending on never fit. On a business-type
    loan for one named thing (equipment, not working capital), a stated
    business use of another kind (wages, rent) does not fit either.
    """
    fits = use_fits_purpose(fund_use, purpose)
    if fits is None:
        return None
    if admitted_mismatch:
        return False  # the borrower said so
    if not fits:
        return False
    if fund_use == "business_operation" and evidence_texts:
        allowed = business_uses(purpose)
        if "project" in allowed:  # a project loan pays its materials, wages, machines and rent
            allowed |= {"materials", "wages", "equipment", "rent"}
        stated = set().union(*(business_uses(t) for t in evidence_texts))
        general = any(w in purpose for w in ("周转", "流动资金", "经营"))
        if allowed and not general and stated and not (stated & allowed):
            return False  # e.g. an equipment loan spent on wages and rent
    return True


def fact_flags(facts: dict, outcome: str, loan_purpose: str | None = None) -> list[Flag]:
    """Flags that follow from the call outcome and the five facts.

    FUND_MISUSE follows the loan's purpose: consumption is proper use of a
    consumer or renovation loan and misuse of every other; ``matches_contract``
    False (e.g. an equipment loan spent on wages) is misuse too.
    """
    flags: list[Flag] = []
    if outcome in ("not_connected", "wrong_party"):
        reason = "电话未接通" if outcome == "not_connected" else "非借款人本人接听"
        flags.append(Flag("CONTACT_FAILED", "medium", reason))
    fund = facts["fund_use"]
    fits = use_fits_purpose(fund["value"], loan_purpose)
    if fits is False:
        flags.append(Flag("FUND_MISUSE", "high", f"客户称贷款资金{VALUE_NAMES_ZH['fund_use'][fund['value']]}，与约定用途不符", fund["evidence_idx"]))
    elif fits and fund.get("matches_contract") is False:
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


def credit_flags(flags: list) -> list:
    """The flags that speak about the borrower and the loan (Flag objects or flag dicts)."""
    return [f for f in flags if _code(f) in CREDIT_FLAGS]


def _code(flag) -> str:
    return flag["code"] if isinstance(flag, dict) else flag.code


def _severity(flag) -> str | None:
    return flag.get("severity") if isinstance(flag, dict) else flag.severity


def risk_level(flags: list) -> str:
    """low/medium/high/critical by the contract's rule, on the credit flags only (Flag objects or flag dicts)."""
    flags = credit_flags(flags)
    if not flags:
        return "low"
    high = [f for f in flags if _severity(f) == "high"]
    codes = {_code(f) for f in flags}
    if len(high) >= 2:
        return "critical"
    if "FUND_MISUSE" in codes and len(flags) >= 2:
        return "critical"
    if "REPAYMENT_RISK" in codes and any(_code(f) != "REPAYMENT_RISK" for f in high):
        return "critical"
    return "high" if high else "medium"


def conduct_level(flags: list) -> str:
    """none, or the worst conduct flag's severity (AGENT_NONCOMPLIANCE, CUSTOMER_COMPLAINT)."""
    severities = {_severity(f) for f in flags if _code(f) in CONDUCT_FLAGS}
    return "high" if "high" in severities else "medium" if "medium" in severities else "none"


def conduct_level_of(summary: dict) -> str | None:
    """A summary's conduct level; a v1 summary (no such key) gets it from its flags. None for a failed call."""
    level = summary.get("conduct_level")
    if level in CONDUCT_LEVELS:
        return level
    if summary.get("status") != "analyzed":
        return None
    return conduct_level(summary.get("flags") or [])


# critical > high > medium > low/none: the rank of the worse of risk_level and conduct_level.
LEVEL_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 3}


def worse_level(risk: str | None, conduct: str | None) -> str | None:
    """The more urgent of a risk level and a conduct level ("none" reads as "low"); None when both are unknown."""
    known = [level for level in (risk, conduct) if level in LEVEL_RANK]
    if not known:
        return None
    worst = min(known, key=LEVEL_RANK.__getitem__)
    return "low" if worst == "none" else worst


def actions_for(flags: list[Flag], level: str, fund_use: str, fund_confidence: float) -> list[str]:
    """Recommended actions, in the contract's order.

    Escalation to the risk committee follows the (credit-only) risk level, so a
    conduct flag can ask for a conduct review or complaint handling, never for
    freezing the borrower's credit.
    """
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
    if "AGENT_NONCOMPLIANCE" in codes:
        wanted.add("review_agent_conduct")
    if "CUSTOMER_COMPLAINT" in codes:
        wanted.add("handle_complaint")
    return order_actions(wanted)


def order_actions(actions) -> list[str]:
    """Actions in the contract's order, each once."""
    wanted = set(actions)
    return [action for action in ACTIONS if action in wanted]


def flag_name(code: str) -> str:
    return FLAG_NAMES_ZH.get(code, code)
