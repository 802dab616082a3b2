"""The frozen evaluation set (data/eval/calls): well-formed, labelled by contract v2, and unseen.

The set is the yardstick of how the text stages generalise, so two things must
hold: its labels obey the contract's own rules (a call whose risk_level does not
follow from its flags would make every score wrong), and none of its sentences
leaks into the rules, the lexicon, the training data or the generators that make
them (a leaked sentence turns the evaluation into a memory test).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.judgement import risk
from pipeline.labels import CALL_OUTCOMES, CONDUCT_LEVELS, FACT_VALUES, FACTS, FLAG_CODES, RISK_LEVELS, SEVERITIES

ROOT = Path(__file__).resolve().parent.parent
CALLS_DIR = ROOT / "data" / "eval" / "calls"
CALL_FILES = sorted(CALLS_DIR.glob("E*.json"))
MIN_CALLS = 40

MANIFEST_KEYS = {"loan_id", "borrower_name", "called_at", "loan_amount", "loan_purpose", "collateral", "agent_channel"}
TRUTH_KEYS = {"call_outcome", "facts", "fund_use_matches_contract", "flags", "risk_level", "conduct_level", "agent_compliance"}
TURN_SPEAKERS = ("agent", "customer", "system")


# Contract v2 flag table: the severity a fact value implies (None = no flag).
FACT_FLAG = {
    "repayment_ability": ("REPAYMENT_RISK", {"strained": "medium", "unable": "high"}),
    "collateral_status": ("COLLATERAL_RISK", {"leased": "medium", "sold_or_transferred": "high", "re_pledged": "high",
                                              "seized": "high", "damaged_or_devalued": "high"}),
    "project_progress": ("PROJECT_RISK", {"delayed": "medium", "suspended": "high"}),
    "business_condition": ("BUSINESS_DETERIORATION", {"declining": "medium", "ceased": "high"}),
}
FIXED_SEVERITY = {"CONTACT_FAILED": "medium", "FUND_MISUSE": "high", "OTHER_DEBT": "medium", "LITIGATION": "high",
                  "INFO_CHANGED": "medium", "CUSTOMER_COMPLAINT": "medium"}
CONSUMER_PURPOSE_WORDS = ("消费", "装修", "购车", "买车", "家电", "家具", "旅游", "婚", "教育", "留学", "医疗")
ALWAYS_MISUSE = {"real_estate", "securities_investment", "repay_other_debt", "lend_to_others"}
NEVER_MISUSE = {"not_mentioned", "refused"}

# Where a leaked eval sentence would do harm: rules, lexicon, training data, their generators.
# (models/vocabulary.txt is word counts, not sentences, and is skipped.)
LEAK_SOURCES = ("models/patterns.jsonl", "models/lexicon.json", "data/training/*.jsonl", "scripts/*.py", "scripts/*.json",
               "data/training/phrases/**/*.txt", "data/training/phrases/**/*.jsonl")
CLAUSE_SPLIT = re.compile(r"[。！？；，…,!?;]+")
MIN_CLAUSE_CHARS = 8


def risk_level_of(flags: dict[str, str]) -> str:
    """risk_level by the contract's rule (pipeline.judgement.risk, checked against the contract's wording in test_contract_v2)."""
    return risk.risk_level([{"code": code, "severity": sev} for code, sev in flags.items()])


def conduct_level_of(flags: dict[str, str]) -> str:
    return risk.conduct_level([{"code": code, "severity": sev} for code, sev in flags.items()])


def loan_wants_consumption(purpose: str) -> bool:
    """Consumer and renovation loans are meant to be spent on consumption; every other kind on the business."""
    return any(word in purpose for word in CONSUMER_PURPOSE_WORDS)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def clauses(text: str) -> list[str]:
    """The clauses of a turn long enough to be a tell-tale copy (short ones are common phrases)."""
    return [c.strip() for c in CLAUSE_SPLIT.split(text) if len(c.strip()) >= MIN_CLAUSE_CHARS]


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in list(value.keys()) + list(value.values()) for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def haystack_of(path: Path) -> str:
    """A file's text as written plus, for JSON files, every decoded string (so \\u escapes cannot hide a copy)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    parts = [raw]
    if path.suffix == ".json":
        try:
            parts.extend(_strings(json.loads(raw)))
        except json.JSONDecodeError:
            pass
    elif path.suffix == ".jsonl":
        for line in raw.splitlines():
            try:
                parts.extend(_strings(json.loads(line)))
            except json.JSONDecodeError:
                continue
    return "\n".join(parts)


def leaks(call_clauses: dict[str, list[str]], haystacks: dict[str, str]) -> list[str]:
    """'call: clause -> file' for every eval clause found in a haystack."""
    found = []
    for name, text in haystacks.items():
        for call_id, items in call_clauses.items():
            found.extend(f"{call_id}: {c} -> {name}" for c in items if c in text)
    return found


@pytest.fixture(scope="module")
def calls() -> dict[str, dict]:
    return {path.stem: load(path) for path in CALL_FILES}


def test_the_set_is_there():
    assert len(CALL_FILES) >= MIN_CALLS, f"{CALLS_DIR}: {len(CALL_FILES)} call files, expected at least {MIN_CALLS}"


@pytest.mark.parametrize("path", CALL_FILES, ids=lambda p: p.stem)
def test_call_is_well_formed(path: Path):
    call = load(path)
    assert call["call_id"] == path.stem, f"{path.name}: call_id {call['call_id']!r} differs from the file name"
    assert MANIFEST_KEYS <= set(call["manifest"]), f"{path.name}: manifest lacks {MANIFEST_KEYS - set(call['manifest'])}"
    assert all(isinstance(v, str) for v in call["manifest"].values()), f"{path.name}: manifest values must be strings"
    assert isinstance(call["style"], list) and call["style"] and all(isinstance(s, str) for s in call["style"])
    assert call["turns"], f"{path.name}: no turns"
    for turn in call["turns"]:
        assert turn["speaker"] in TURN_SPEAKERS, f"{path.name}: speaker {turn['speaker']!r}"
        assert isinstance(turn["text"], str) and turn["text"].strip(), f"{path.name}: empty turn"
    truth = call["truth"]
    assert TRUTH_KEYS <= set(truth), f"{path.name}: truth lacks {TRUTH_KEYS - set(truth)}"
    assert truth["call_outcome"] in CALL_OUTCOMES
    assert set(truth["facts"]) == set(FACTS), f"{path.name}: facts {sorted(truth['facts'])}"
    for fact, value in truth["facts"].items():
        assert value in FACT_VALUES[fact], f"{path.name}: {fact}={value!r} is not in the contract's label set"
    for code, severity in truth["flags"].items():
        assert code in FLAG_CODES, f"{path.name}: unknown flag {code}"
        assert severity in SEVERITIES, f"{path.name}: {code} severity {severity!r}"
    assert truth["risk_level"] in RISK_LEVELS and truth["conduct_level"] in CONDUCT_LEVELS


@pytest.mark.parametrize("path", CALL_FILES, ids=lambda p: p.stem)
def test_labels_follow_the_contract(path: Path):
    call = load(path)
    truth, facts, flags = call["truth"], call["truth"]["facts"], call["truth"]["flags"]
    outcome = truth["call_outcome"]
    name = path.name

    assert ("CONTACT_FAILED" in flags) == (outcome != "connected"), f"{name}: CONTACT_FAILED vs outcome {outcome}"
    if outcome == "not_connected":
        assert all(v == "not_mentioned" for v in facts.values()), f"{name}: facts on a call nobody answered"
        assert {t["speaker"] for t in call["turns"]} <= {"system", "agent"}, f"{name}: a callee speaks on a not-connected call"

    fund = facts["fund_use"]
    wanted = "consumption" if loan_wants_consumption(call["manifest"]["loan_purpose"]) else "business_operation"
    misuse = fund not in NEVER_MISUSE and (fund in ALWAYS_MISUSE or fund != wanted)
    assert ("FUND_MISUSE" in flags) == misuse, f"{name}: fund_use {fund} on a {call['manifest']['loan_purpose']} loan"
    expected_match = None if fund in NEVER_MISUSE else not misuse
    assert truth["fund_use_matches_contract"] is expected_match, f"{name}: fund_use_matches_contract"

    for fact, (code, severity_of) in FACT_FLAG.items():
        expected = severity_of.get(facts[fact])
        assert flags.get(code) == expected or (expected is None and code not in flags), (
            f"{name}: {fact}={facts[fact]} implies {code}={expected}, labelled {flags.get(code)}")
    for code, severity in FIXED_SEVERITY.items():
        if code in flags:
            assert flags[code] == severity, f"{name}: {code} is always {severity}"
    if fund == "repay_other_debt" or facts["collateral_status"] == "re_pledged":
        assert "OTHER_DEBT" in flags, f"{name}: other debt is evident from the facts"
    if facts["collateral_status"] == "seized":
        assert "LITIGATION" in flags, f"{name}: a seized collateral implies enforcement"

    compliance = truth["agent_compliance"]
    if outcome == "not_connected":
        # nobody to disclose to: null (as in data/sample) or false, but not a claim that it was done
        assert all(compliance[k] in (None, False) for k in ("recording_disclosed", "identity_verified")), name
    else:
        assert all(isinstance(compliance[k], bool) for k in ("recording_disclosed", "identity_verified")), name
        if outcome == "connected" and not all(compliance.values()):
            assert "AGENT_NONCOMPLIANCE" in flags, f"{name}: a skipped notice or identity check must be flagged"

    assert truth["risk_level"] == risk_level_of(flags), f"{name}: risk_level {truth['risk_level']} vs flags {flags}"
    assert truth["conduct_level"] == conduct_level_of(flags), f"{name}: conduct_level {truth['conduct_level']} vs flags {flags}"


def test_ids_are_unique(calls):
    loan_ids = [c["manifest"]["loan_id"] for c in calls.values()]
    assert len(set(loan_ids)) == len(loan_ids), "two eval calls share a loan_id"


def test_the_set_covers_every_label(calls):
    """Every fact value and every flag code occurs, so each one is actually measured."""
    seen_values = {(fact, c["truth"]["facts"][fact]) for c in calls.values() for fact in FACTS}
    missing = [(f, v) for f in FACTS for v in FACT_VALUES[f] if (f, v) not in seen_values]
    assert not missing, f"fact values never labelled in the eval set: {missing}"
    seen_flags = {code for c in calls.values() for code in c["truth"]["flags"]}
    assert set(FLAG_CODES) <= seen_flags, f"flags never raised: {set(FLAG_CODES) - seen_flags}"


def test_no_eval_sentence_in_rules_or_training_data(calls):
    call_clauses = {cid: [c for t in call["turns"] for c in clauses(t["text"])] for cid, call in calls.items()}
    assert sum(map(len, call_clauses.values())) > 100, "too few clauses to check: is the clause splitter broken?"
    files = [p for pattern in LEAK_SOURCES for p in sorted(ROOT.glob(pattern))]
    assert any(p.match("data/training/*.jsonl") for p in files), "training data not found: the check would be empty"
    assert any(p.match("phrases/clauses/*.txt") for p in files), "training phrase files not found: the check would miss them"
    haystacks = {str(p.relative_to(ROOT)): haystack_of(p) for p in files}
    found = leaks(call_clauses, haystacks)
    assert not found, "eval sentences found in rules or training data (the set must stay unseen):\n" + "\n".join(found[:20])


def test_leak_check_catches_a_pasted_clause(calls, tmp_path):
    """The check itself: an eval clause pasted into a training line (even \\u-escaped) is found."""
    call_id, call = next(iter(calls.items()))
    clause = next(c for t in call["turns"] for c in clauses(t["text"]))
    pasted = tmp_path / "utterances.jsonl"
    pasted.write_text(json.dumps({"text": "嗯，" + clause + "。"}) + "\n", encoding="utf-8")  # ensure_ascii: \u escapes
    assert clause not in pasted.read_text(encoding="utf-8")
    assert leaks({call_id: [clause]}, {"utterances.jsonl": haystack_of(pasted)}), "a pasted clause went unnoticed"


VOICED = ROOT / "data" / "eval" / "voiced"


def test_voiced_batch_carries_the_calls_labels(calls):
    """data/eval/voiced is the same calls spoken: same labels, same text, every recording present."""
    import csv

    truth = json.loads((VOICED / "truth.json").read_text(encoding="utf-8"))["calls"]
    with open(VOICED / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = {row["call_id"]: row for row in csv.DictReader(fh)}
    assert set(rows) == set(truth) and len(truth) >= 24, "manifest and truth list different calls"
    for call_id, voiced in truth.items():
        call, row = calls[call_id], rows[call_id]
        assert (VOICED / row["audio_path"]).is_file(), f"{call_id}: {row['audio_path']} missing"
        for key in ("loan_id", "borrower_name", "loan_purpose", "collateral"):
            assert row[key] == call["manifest"][key], f"{call_id}: manifest {key}"
        labels = call["truth"]
        assert voiced["facts"] == labels["facts"] and voiced["call_outcome"] == labels["call_outcome"], call_id
        assert voiced["flag_severity"] == labels["flags"] and set(voiced["flags"]) == set(labels["flags"]), call_id
        assert (voiced["risk_level"], voiced["conduct_level"]) == (labels["risk_level"], labels["conduct_level"]), call_id
        assert voiced["agent_compliance"] == labels["agent_compliance"], call_id
        assert [(t["speaker"], t["text"]) for t in voiced["turns"]] == [(t["speaker"], t["text"]) for t in call["turns"]], call_id
        starts = [t["start"] for t in voiced["turns"]]
        assert starts == sorted(starts) and all(t["end"] > t["start"] for t in voiced["turns"]), f"{call_id}: turn times"
    assert {t["channels"] for t in truth.values()} == {1, 2}, "the voiced batch should mix mono and two-channel calls"
    assert any(t["call_outcome"] == "not_connected" for t in truth.values()), "no carrier message voiced"
