"""The sample batch's truth covers the contract, agrees with its rules, and the scorer scores it."""
from __future__ import annotations

import csv
import json

from pipeline.evaluation.evaluate import cer_text, evaluate
from pipeline.labels import CALL_OUTCOMES, CONDUCT_LEVELS, FACT_VALUES, FLAG_CODES, RISK_LEVELS, SCHEMA_VERSION
from pipeline.judgement.risk import Flag, conduct_level, risk_level

from .conftest import SAMPLE

TRUTH = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["calls"]


def test_every_label_value_and_flag_occurs():
    for fact, values in FACT_VALUES.items():
        seen = {call["facts"][fact] for call in TRUTH.values()}
        assert seen == set(values), f"{fact}: missing {set(values) - seen}"
    assert {f for call in TRUTH.values() for f in call["flags"]} == set(FLAG_CODES)
    assert {call["call_outcome"] for call in TRUTH.values()} == set(CALL_OUTCOMES)
    assert {call["risk_level"] for call in TRUTH.values()} == set(RISK_LEVELS)
    assert {call["conduct_level"] for call in TRUTH.values()} == set(CONDUCT_LEVELS)
    assert json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION


def test_batch_shape():
    with open(SAMPLE / "manifest.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 16 and {r["call_id"] for r in rows} == set(TRUTH)
    assert all((SAMPLE / r["audio_path"]).is_file() for r in rows)
    assert sum(1 for c in TRUTH.values() if c["channels"] == 2) >= 1
    assert {r["audio_path"].rsplit(".", 1)[1] for r in rows} >= {"wav", "mp3"}


def test_truth_risk_levels_follow_the_contract():
    graded = {"REPAYMENT_RISK": ("repayment_ability", {"unable"}), "COLLATERAL_RISK": ("collateral_status", {"sold_or_transferred", "re_pledged", "seized", "damaged_or_devalued"}),
              "PROJECT_RISK": ("project_progress", {"suspended"}), "BUSINESS_DETERIORATION": ("business_condition", {"ceased"})}
    for call_id, call in TRUTH.items():
        severity = call["flag_severity"]
        assert set(severity) == set(call["flags"]), call_id
        for code, (fact, high) in graded.items():
            if code in severity:
                assert severity[code] == ("high" if call["facts"][fact] in high else "medium"), call_id
        flags = [Flag(code, level, "") for code, level in severity.items()]
        assert risk_level(flags) == call["risk_level"], call_id
        assert conduct_level(flags) == call["conduct_level"], call_id


def test_scorer_on_perfect_and_empty_runs():
    perfect = {
        call_id: {
            "status": "analyzed",
            "call_outcome": call["call_outcome"],
            "risk_level": call["risk_level"],
            "conduct_level": call["conduct_level"],
            "facts": {fact: {"value": value} for fact, value in call["facts"].items()},
            "flags": [{"code": code} for code in call["flags"]],
            "transcript": [dict(turn) for turn in call["turns"]],
        }
        for call_id, call in TRUTH.items()
    }
    scores = evaluate(perfect, {"calls": TRUTH})
    assert scores["cer"] == 0.0 and scores["domain_term_recall"] == 1.0 and scores["speaker_accuracy"] == 1.0
    assert scores["call_outcome_accuracy"] == scores["risk_level_accuracy"] == scores["conduct_level_accuracy"] == 1.0
    assert scores["flag_precision"] == scores["flag_recall"] == 1.0
    assert scores["credit_flag_recall"] == scores["conduct_flag_recall"] == scores["conduct_flag_precision"] == 1.0
    assert set(scores["fact_accuracy"].values()) == {1.0}
    empty = evaluate({}, {"calls": TRUTH})
    assert empty["cer"] == 1.0 and empty["flag_recall"] == 0.0 and empty["call_outcome_accuracy"] == 0.0
    assert empty["conduct_level_accuracy"] == 0.0 and empty["credit_flag_recall"] == empty["conduct_flag_recall"] == 0.0


def test_cer_normalisation():
    assert cer_text("貸款五十万元，還款。") == cer_text("贷款500000元还款")
