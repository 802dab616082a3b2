"""Turn data/dev/dev_calls.txt (hand-written dev calls) into data/dev/calls/*.json for `huifang eval --transcripts data/dev`.

The truth's flags follow from the facts by the contract's rules (v2), plus the
extra flags named in each call's header; risk and conduct level follow from the flags.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pipeline.evaluation.evaluate import summary_levels  # noqa: E402
from pipeline.labels import FACTS  # noqa: E402

SHORT = {"f": "fund_use", "r": "repayment_ability", "c": "collateral_status", "p": "project_progress", "b": "business_condition"}
SPEAKER = {"A": "agent", "C": "customer", "T": "customer", "S": "system"}
CONSUMER_PURPOSES = ("消费", "装修", "购车", "旅游", "教育")
SEVERE = {"unable", "suspended", "ceased", "sold_or_transferred", "re_pledged", "seized", "damaged_or_devalued"}


def fact_flags(facts: dict[str, str], purpose: str, outcome: str) -> dict[str, str]:
    flags: dict[str, str] = {}
    if outcome != "connected":
        flags["CONTACT_FAILED"] = "medium"
    fund = facts["fund_use"]
    consumer = any(w in purpose for w in CONSUMER_PURPOSES)
    allowed = "consumption" if consumer else "business_operation"
    if fund not in ("not_mentioned", "refused", allowed):
        flags["FUND_MISUSE"] = "high"
    for fact, code, bad in (("repayment_ability", "REPAYMENT_RISK", {"strained", "unable"}),
                            ("collateral_status", "COLLATERAL_RISK", {"leased"} | SEVERE),
                            ("project_progress", "PROJECT_RISK", {"delayed", "suspended"}),
                            ("business_condition", "BUSINESS_DETERIORATION", {"declining", "ceased"})):
        if facts[fact] in bad:
            flags[code] = "high" if facts[fact] in SEVERE else "medium"
    return flags


def parse(text: str) -> list[dict]:
    calls, current = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("=="):
            call_id, purpose, collateral, facts, extra, outcome = [p.strip() for p in line[2:].split("|")]
            values = {fact: "not_mentioned" for fact in FACTS}
            for item in facts.split():
                key, value = item.split("=")
                values[SHORT[key]] = value
            flags = fact_flags(values, purpose, outcome)
            flags.update({code: "high" if code == "LITIGATION" else "medium" for code in extra.split(",") if code})
            risk, conduct = summary_levels({"status": "analyzed", "flags": [{"code": c, "severity": s} for c, s in flags.items()]})
            current = {"call_id": call_id,
                       "manifest": {"loan_id": f"L-DEV-{call_id}", "borrower_name": "", "loan_purpose": purpose, "collateral": collateral},
                       "style": ["dev"], "turns": [],
                       "truth": {"call_outcome": outcome, "facts": values,
                                 "fund_use_matches_contract": None if values["fund_use"] in ("not_mentioned", "refused") else "FUND_MISUSE" not in flags,
                                 "flags": flags, "risk_level": risk, "conduct_level": conduct}}
            calls.append(current)
        else:
            who, said = line.split(":", 1)
            current["turns"].append({"speaker": SPEAKER[who], "text": said.strip()})
    return calls


def main() -> int:
    out = ROOT / "data" / "dev" / "calls"
    out.mkdir(parents=True, exist_ok=True)
    for call in parse((ROOT / "data" / "dev" / "dev_calls.txt").read_text(encoding="utf-8")):
        (out / f"{call['call_id']}.json").write_text(json.dumps(call, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
