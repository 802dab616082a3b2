"""Validation of a call summary against the contract: every key present, labels from the label sets."""
from __future__ import annotations

from pipeline.labels import ACTIONS, CALL_OUTCOMES, CALL_STATUSES, CONDUCT_LEVELS, FACT_VALUES, FLAG_CODES, RISK_LEVELS, SCHEMA_VERSION, SEVERITIES, SPEAKERS
from pipeline.judgement.risk import conduct_level, risk_level

TOP_KEYS = (
    "schema_version", "call_id", "loan_id", "status", "error", "call_outcome", "duration_s", "transcript",
    "facts", "flags", "risk_level", "conduct_level", "actions", "agent_compliance", "summary_zh",
)
COMPLIANCE_KEYS = ("recording_disclosed", "identity_verified", "topics_covered", "topics_missing", "prohibited_language")
_EVIDENCE_KEYS = ("start", "end", "speaker", "text")


def _check_evidence(items, where: str, problems: list[str]) -> None:
    if not isinstance(items, list):
        problems.append(f"{where}: evidence is not a list")
        return
    for n, item in enumerate(items):
        missing = [k for k in _EVIDENCE_KEYS if k not in item]
        if missing:
            problems.append(f"{where}.evidence[{n}]: missing {missing}")
        elif item["speaker"] not in SPEAKERS:
            problems.append(f"{where}.evidence[{n}]: bad speaker {item['speaker']!r}")


def validate_summary(summary: dict) -> list[str]:
    """Problems found (empty when the summary follows the contract)."""
    problems = [f"missing key {k}" for k in TOP_KEYS if k not in summary]
    if problems:
        return problems
    if summary["schema_version"] != SCHEMA_VERSION:
        problems.append(f"schema_version {summary['schema_version']!r}")
    if summary["status"] not in CALL_STATUSES:
        problems.append(f"status {summary['status']!r}")
    failed = summary["status"] == "failed"
    if failed:
        if not summary["error"]:
            problems.append("failed call without error message")
    else:
        if summary["call_outcome"] not in CALL_OUTCOMES:
            problems.append(f"call_outcome {summary['call_outcome']!r}")
        if summary["risk_level"] not in RISK_LEVELS:
            problems.append(f"risk_level {summary['risk_level']!r}")
        if summary["conduct_level"] not in CONDUCT_LEVELS:
            problems.append(f"conduct_level {summary['conduct_level']!r}")
        flags = [f for f in summary["flags"] if isinstance(f, dict) and f.get("severity") in SEVERITIES]
        if summary["risk_level"] in RISK_LEVELS and summary["risk_level"] != risk_level(flags):
            problems.append(f"risk_level {summary['risk_level']!r} does not follow from the credit flags")
        if summary["conduct_level"] in CONDUCT_LEVELS and summary["conduct_level"] != conduct_level(flags):
            problems.append(f"conduct_level {summary['conduct_level']!r} does not follow from the conduct flags")
    for n, item in enumerate(summary["transcript"]):
        for key in ("start", "end", "speaker", "text"):
            if key not in item:
                problems.append(f"transcript[{n}] missing {key}")
        if item.get("speaker") not in SPEAKERS:
            problems.append(f"transcript[{n}] speaker {item.get('speaker')!r}")
    facts = summary["facts"]
    for fact, values in FACT_VALUES.items():
        if fact not in facts:
            problems.append(f"facts.{fact} missing")
            continue
        decision = facts[fact]
        for key in ("value", "confidence", "needs_review", "evidence"):
            if key not in decision:
                problems.append(f"facts.{fact}.{key} missing")
        if "needs_review" in decision and not isinstance(decision["needs_review"], bool):
            problems.append(f"facts.{fact}.needs_review is not a boolean")
        if fact == "fund_use" and "matches_contract" not in decision:
            problems.append("facts.fund_use.matches_contract missing")
        if not failed and decision.get("value") not in values:
            problems.append(f"facts.{fact}.value {decision.get('value')!r} not in label set")
        _check_evidence(decision.get("evidence", []), f"facts.{fact}", problems)
    for n, flag in enumerate(summary["flags"]):
        if flag.get("code") not in FLAG_CODES:
            problems.append(f"flags[{n}].code {flag.get('code')!r}")
        if flag.get("severity") not in SEVERITIES:
            problems.append(f"flags[{n}].severity {flag.get('severity')!r}")
        if "reason" not in flag:
            problems.append(f"flags[{n}].reason missing")
        _check_evidence(flag.get("evidence", []), f"flags[{n}]", problems)
    for action in summary["actions"]:
        if action not in ACTIONS:
            problems.append(f"action {action!r}")
    compliance = summary["agent_compliance"]
    problems += [f"agent_compliance.{k} missing" for k in COMPLIANCE_KEYS if k not in compliance]
    if not isinstance(summary["summary_zh"], str):
        problems.append("summary_zh is not text")
    return problems
