"""The loans' call history: previous calls are attached and repeated risk escalates."""
from __future__ import annotations

import json

from pipeline.analyze import analyze_transcript
from pipeline.batch import update_history
from pipeline.outputs.files import write_call
from pipeline.speech.transcript import Utterance

OPENING = ("agent", "您好，这里是城北农商银行贷后部，通话会录音，请问您是钱七先生本人吗？")


def strained_call(call_id: str, called_at: str, strained: bool) -> dict:
    answer = "最近手头有点紧，还款压力挺大的。" if strained else "每个月都按时还，没什么压力。"
    turns = [OPENING, ("customer", "是我。"), ("agent", "每个月还款有没有压力？"), ("customer", answer)]
    utterances = [Utterance(start=4.0 * i, end=4.0 * i + 3, speaker=s, text=t, norm_text=t) for i, (s, t) in enumerate(turns)]
    manifest = {"loan_id": "L-H-1", "called_at": called_at, "borrower_name": "钱七", "loan_purpose": "经营周转", "collateral": "无"}
    return analyze_transcript(utterances, manifest, call_id=call_id, duration_s=16)


def test_repeated_repayment_risk_is_marked_for_closer_follow_up(tmp_path):
    out = tmp_path / "out"
    first = [strained_call("H1", "2026-10-01T10:00:00+08:00", True), strained_call("H0", "2026-09-01T10:00:00+08:00", False)]
    for summary in first:
        write_call(out, summary)
    update_history(out, first, "batch-1")
    h1 = json.loads((out / "calls" / "H1.json").read_text())
    assert [p["call_id"] for p in h1["history"]] == ["H0"]
    assert h1["history_escalation"] is None  # the previous call was fine

    second = [strained_call("H2", "2026-11-01T10:00:00+08:00", True)]
    write_call(out, second[0])
    update_history(out, second, "batch-2")
    h2 = json.loads((out / "calls" / "H2.json").read_text())
    assert [p["call_id"] for p in h2["history"]] == ["H1", "H0"]
    assert h2["history"][0]["flags"] == ["REPAYMENT_RISK"]
    assert h2["history_escalation"] == {"repeated_flags": ["REPAYMENT_RISK"]}
    assert "再次出现" in h2["summary_zh"]
    # risk_level stays medium: closer follow-up, never the risk committee (only high or critical go there)
    assert h2["risk_level"] == "medium" and "increase_followup_frequency" in h2["actions"]
    assert "escalate_to_risk_committee" not in h2["actions"]


def test_history_stores_each_call_once(tmp_path):
    import sqlite3

    out = tmp_path / "out"
    summaries = [strained_call("H1", "2026-10-01T10:00:00+08:00", True)]
    write_call(out, summaries[0])
    update_history(out, summaries, "b")
    update_history(out, summaries, "b")
    with sqlite3.connect(out / "history.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM calls").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM facts").fetchone() == (5,)
        assert conn.execute("SELECT code, severity FROM flags").fetchall() == [("REPAYMENT_RISK", "medium")]
