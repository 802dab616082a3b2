"""A v1 output folder and a v1 history database, written by hand in 0.2.0's shapes, are read and migrated by v2."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.outputs import history
from pipeline.analyze import analyze_transcript
from pipeline.batch import finished_summary, update_history
from pipeline.evaluation.evaluate import evaluate
from pipeline.labels import SCHEMA_VERSION
from pipeline.manifest import CallSpec
from pipeline.outputs.files import write_call, write_parquet
from pipeline.outputs.report import render_report, urgency_key, write_reviewers_xlsx
from pipeline.speech.transcript import Utterance

# The history database as 0.2.0 created it (contract v1).
V1_SCHEMA = """
CREATE TABLE calls (call_id TEXT PRIMARY KEY, loan_id TEXT, called_at TEXT, batch TEXT, status TEXT,
                    call_outcome TEXT, risk_level TEXT, summary_zh TEXT, analysis_key TEXT);
CREATE INDEX calls_by_loan ON calls (loan_id, called_at);
CREATE TABLE facts (call_id TEXT REFERENCES calls(call_id) ON DELETE CASCADE, fact TEXT, value TEXT,
                    confidence REAL, PRIMARY KEY (call_id, fact));
CREATE TABLE flags (call_id TEXT REFERENCES calls(call_id) ON DELETE CASCADE, code TEXT, severity TEXT,
                    reason TEXT, PRIMARY KEY (call_id, code));
"""
FACTS = ("fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition")


def v1_summary(call_id: str, flags: list[tuple[str, str]], risk: str, key: str = "k1") -> dict:
    """A call JSON as 0.2.0 wrote it: schema_version 1, no conduct_level, no needs_review."""
    facts = {f: {"value": "not_mentioned", "confidence": 0.95, "evidence": [], "method": "none"} for f in FACTS}
    facts["fund_use"]["matches_contract"] = None
    facts["repayment_ability"].update(value="strained", confidence=0.8)
    return {
        "schema_version": 1, "call_id": call_id, "loan_id": "L-OLD-1", "status": "analyzed", "error": None,
        "call_outcome": "connected", "duration_s": 30.0,
        "transcript": [{"start": 0.0, "end": 3.0, "speaker": "agent", "text": "你再不还就找你单位领导。"}],
        "facts": facts,
        "flags": [{"code": c, "severity": s, "reason": "", "evidence": []} for c, s in flags],
        "risk_level": risk, "actions": ["increase_followup_frequency", "escalate_to_risk_committee"],
        "agent_compliance": {"recording_disclosed": False, "identity_verified": False, "topics_covered": [], "topics_missing": [],
                             "prohibited_language": [{"type": "threat", "text": "你再不还就找你单位领导。"}]},
        "summary_zh": "旧版摘要。", "manifest": {"called_at": "2026-09-01T10:00:00+08:00", "borrower_name": "钱七"},
        "analysis": {"key": key},
    }


def test_v1_call_json_is_analysed_again(tmp_path):
    out = tmp_path / "out"
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    call = CallSpec("C1", "a.wav", {"call_id": "C1"}, 2, tmp_path)
    write_call(out, v1_summary("C1", [], "low", key="same-key"))
    assert finished_summary(out, call, "same-key") is None  # same analysis key, older contract: redone
    current = dict(v1_summary("C1", [], "low", key="same-key"), schema_version=SCHEMA_VERSION)
    write_call(out, current)
    assert finished_summary(out, call, "same-key") is not None


def test_v1_output_folder_is_read_by_report_parquet_xlsx_and_eval(tmp_path):
    old = v1_summary("C1", [("AGENT_NONCOMPLIANCE", "high"), ("REPAYMENT_RISK", "medium")], "critical")
    out = tmp_path / "out"
    write_call(out, old)
    render_report([old], out / "report.html")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'data-conduct="high"' in html and f'name="huifang-schema-version" content="{SCHEMA_VERSION}"' in html
    assert '<select data-filter="conduct">' in html and 'data-set-filter="conduct" data-value="high"' in html
    write_parquet(out, [old])
    row = pq.read_table(out / "calls.parquet").to_pylist()[0]
    assert row["schema_version"] == 1 and row["conduct_level"] == "high"
    write_reviewers_xlsx([old], out / "reviewers.xlsx")
    truth = {"calls": {"C1": {"call_outcome": "connected", "risk_level": "medium", "conduct_level": "high",
                              "facts": {f: old["facts"][f]["value"] for f in FACTS},
                              "flags": ["AGENT_NONCOMPLIANCE", "REPAYMENT_RISK"], "turns": []}}}
    scores = evaluate({"C1": old}, truth)
    assert scores["conduct_level_accuracy"] == 1.0  # derived from the v1 flags
    assert scores["risk_level_accuracy"] == 0.0  # v1 counted the agent's threat as credit risk
    assert scores["credit_flag_recall"] == scores["conduct_flag_recall"] == 1.0


def make_v1_history(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executescript(V1_SCHEMA)
        conn.execute("INSERT INTO calls VALUES ('OLD1', 'L-OLD-1', '2026-09-01T10:00:00+08:00', 'b0', 'analyzed', 'connected', 'critical', '旧版摘要。', 'k')")
        conn.executemany("INSERT INTO facts VALUES ('OLD1', ?, ?, 0.9)", [(f, "strained" if f == "repayment_ability" else "not_mentioned") for f in FACTS])
        conn.executemany("INSERT INTO flags VALUES ('OLD1', ?, ?, '')", [("AGENT_NONCOMPLIANCE", "high"), ("REPAYMENT_RISK", "medium")])


def strained_v2_call(call_id: str, called_at: str, threat: bool) -> dict:
    opening = ("agent", "你这个月再不还，就把你拉进黑名单。" if threat else "您好，通话有录音，请问是钱七先生本人吗？")
    turns = [opening, ("customer", "是我。"), ("agent", "每个月还款有没有压力？"), ("customer", "最近手头有点紧，还款压力挺大的。")]
    utterances = [Utterance(start=4.0 * i, end=4.0 * i + 3, speaker=s, text=t, norm_text=t) for i, (s, t) in enumerate(turns)]
    manifest = {"loan_id": "L-OLD-1", "called_at": called_at, "borrower_name": "钱七", "loan_purpose": "经营周转", "collateral": "无"}
    return analyze_transcript(utterances, manifest, call_id=call_id, duration_s=16)


def test_v1_history_database_is_migrated(tmp_path):
    db = tmp_path / "history.sqlite"
    make_v1_history(db)
    with closing(history.connect(db)) as conn:
        assert history.schema_version(conn) == SCHEMA_VERSION
        row = conn.execute("SELECT risk_level, conduct_level, schema_version FROM calls WHERE call_id = 'OLD1'").fetchone()
        assert row == ("medium", "high", 1)  # the agent's threat no longer counts as the loan's risk
        assert "needs_review" in {r[1] for r in conn.execute("PRAGMA table_info(facts)")}
    with closing(history.connect(db)) as conn:  # a second connect changes nothing
        assert conn.execute("SELECT risk_level, conduct_level FROM calls").fetchall() == [("medium", "high")]

    out = tmp_path / "out"
    new = strained_v2_call("NEW1", "2026-10-01T10:00:00+08:00", threat=False)
    write_call(out, new)
    update_history(out, [new], "b1", db)
    stored = json.loads((out / "calls" / "NEW1.json").read_text(encoding="utf-8"))
    assert stored["history"][0]["call_id"] == "OLD1" and stored["history"][0]["conduct_level"] == "high"
    assert stored["history_escalation"] == {"repeated_flags": ["REPAYMENT_RISK"]}  # a credit flag repeated is marked
    assert stored["actions"] == ["increase_followup_frequency"]  # medium risk: never the risk committee
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT conduct_level, schema_version FROM calls WHERE call_id = 'NEW1'").fetchone() == ("none", SCHEMA_VERSION)


def test_repeated_conduct_flags_never_escalate(tmp_path):
    out = tmp_path / "out"
    calls = [strained_v2_call("T1", "2026-10-01T10:00:00+08:00", threat=True), strained_v2_call("T2", "2026-11-01T10:00:00+08:00", threat=True)]
    for summary in calls:
        summary["flags"] = [f for f in summary["flags"] if f["code"] != "REPAYMENT_RISK"]  # only conduct left
        write_call(out, summary)
    update_history(out, calls, "b")
    second = json.loads((out / "calls" / "T2.json").read_text(encoding="utf-8"))
    assert second["history"][0]["flags"] and set(second["history"][0]["flags"]) <= {"AGENT_NONCOMPLIANCE", "CUSTOMER_COMPLAINT"}
    assert second["history_escalation"] is None
    assert "escalate_to_risk_committee" not in second["actions"]


def test_report_orders_by_the_worse_of_risk_and_conduct():
    def row(call_id, risk, conduct):
        return {"call_id": call_id, "status": "analyzed", "risk_level": risk, "conduct_level": conduct, "flags": []}

    calls = [row("low-none", "low", "none"), row("medium-none", "medium", "none"), row("low-high", "low", "high"), row("critical", "critical", "none")]
    assert [c["call_id"] for c in sorted(calls, key=urgency_key)] == ["critical", "low-high", "medium-none", "low-none"]
