"""huifang eval --transcripts: the text stages on labelled transcripts, scored (tests/data/transcripts)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.evaluation.evaluate import (analyze_transcript_calls, evaluate_transcripts, load_transcript_calls, summary_levels,
                               utterances_from_turns)

FIXTURES = Path(__file__).parent / "data" / "transcripts"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def calls() -> list[dict]:
    return load_transcript_calls(FIXTURES)


@pytest.fixture(scope="module")
def summaries(calls) -> dict[str, dict]:
    return analyze_transcript_calls(calls)


def test_turns_become_timed_utterances_in_order():
    utts = utterances_from_turns([{"speaker": "agent", "text": "您好"}, {"speaker": "third_party", "text": "他不在家，你等一下"}])
    assert [u.speaker for u in utts] == ["agent", "customer"]
    assert utts[0].end <= utts[1].start and utts[1].end > utts[1].start
    assert utts[1].norm_text


def test_fixture_calls_score_perfectly(calls, summaries):
    scores = evaluate_transcripts(calls, summaries)
    assert scores["n_calls"] == 3
    assert set(scores["fact_accuracy"].values()) == {1.0}
    assert scores["credit_flag_recall"] == 1.0 and scores["flag_precision"] == 1.0
    assert scores["risk_level_accuracy"] == 1.0 and scores["conduct_level_accuracy"] == 1.0


def test_wrong_facts_and_flags_are_counted(calls, summaries):
    broken = copy.deepcopy(summaries)
    fx = broken["FX02"]
    fx["facts"]["fund_use"] = {**fx["facts"]["fund_use"], "value": "business_operation", "needs_review": True}
    fx["flags"] = [f for f in fx["flags"] if f["code"] != "FUND_MISUSE"] + [{"code": "AGENT_NONCOMPLIANCE", "severity": "high"}]
    fx.pop("conduct_level", None)  # levels derived from the flags, as for a summary written before contract v2
    scores = evaluate_transcripts(calls, broken)
    assert scores["fact_accuracy"]["fund_use"] == round(2 / 3, 4)
    assert scores["credit_flag_recall"] == round(2 / 3, 4)  # FUND_MISUSE missed of CONTACT_FAILED, FUND_MISUSE, REPAYMENT_RISK
    assert scores["credit_flag_precision"] == 1.0  # a conduct flag is not a credit flag
    assert scores["flag_precision"] == 0.6667
    assert scores["needs_review"]["wrong_facts"] == 1 and scores["needs_review"]["wrong_marked"] == 1.0
    assert scores["per_call"]["FX02"]["facts_wrong"] == {"fund_use": ["business_operation", "securities_investment"]}
    assert scores["per_call"]["FX02"]["conduct_level"][0] == "high"


def test_levels_before_contract_v2_come_from_the_flags():
    summary = {"status": "analyzed", "risk_level": "high", "flags": [
        {"code": "REPAYMENT_RISK", "severity": "medium"}, {"code": "AGENT_NONCOMPLIANCE", "severity": "high"}]}
    assert summary_levels(summary) == ("medium", "high")
    assert summary_levels({**summary, "conduct_level": "medium"}) == ("high", "medium")


def test_missing_call_counts_as_wrong(calls, summaries):
    partial = {k: v for k, v in summaries.items() if k != "FX01"}
    scores = evaluate_transcripts(calls, partial)
    assert scores["fact_accuracy"]["fund_use"] == round(2 / 3, 4)


def test_broken_call_file_is_named(tmp_path):
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.json"):
        load_transcript_calls(tmp_path)


def test_cli_writes_eval_json(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "eval", "--transcripts", str(FIXTURES), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "credit-flag recall" in result.stdout and "needs_review on wrong facts" in result.stdout
    scores = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert scores["n_calls"] == 3 and (out / "calls" / "FX01.json").is_file()
