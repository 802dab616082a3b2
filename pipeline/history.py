"""The loans' call history: an embedded SQLite database of every analysed call, its facts and flags.

Reviewers need a loan's previous calls, not just tonight's: a borrower whose
repayment was strained on three calls in a row is a different case from one
bad week. The database lives under the output root (or where ``--history``
points, to share it between nightly output folders); a call is stored once
(keyed by call id) however often it is re-analysed.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from .labels import FACTS

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    loan_id TEXT,
    called_at TEXT,
    batch TEXT,
    status TEXT,
    call_outcome TEXT,
    risk_level TEXT,
    summary_zh TEXT,
    analysis_key TEXT
);
CREATE INDEX IF NOT EXISTS calls_by_loan ON calls (loan_id, called_at);
CREATE TABLE IF NOT EXISTS facts (
    call_id TEXT REFERENCES calls(call_id) ON DELETE CASCADE,
    fact TEXT,
    value TEXT,
    confidence REAL,
    PRIMARY KEY (call_id, fact)
);
CREATE TABLE IF NOT EXISTS flags (
    call_id TEXT REFERENCES calls(call_id) ON DELETE CASCADE,
    code TEXT,
    severity TEXT,
    reason TEXT,
    PRIMARY KEY (call_id, code)
);
"""
# Flags that, raised again on the loan's previous call, call for escalation.
REPEAT_ESCALATES = ("REPAYMENT_RISK", "BUSINESS_DETERIORATION", "COLLATERAL_RISK", "PROJECT_RISK", "CONTACT_FAILED")
_REPEAT_NAMES = {"REPAYMENT_RISK": "还款风险", "BUSINESS_DETERIORATION": "经营恶化", "COLLATERAL_RISK": "抵押物风险",
                 "PROJECT_RISK": "项目风险", "CONTACT_FAILED": "联系失败"}


def connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    return conn


def record(conn: sqlite3.Connection, summary: dict, batch: str) -> None:
    """Store (or replace) one analysed call with its facts and flags, in one transaction."""
    if summary.get("status") != "analyzed":
        return
    call_id = summary["call_id"]
    manifest = summary.get("manifest") or {}
    with conn:
        conn.execute("DELETE FROM calls WHERE call_id = ?", (call_id,))
        conn.execute(
            "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (call_id, summary.get("loan_id"), manifest.get("called_at") or "", batch, summary["status"],
             summary.get("call_outcome"), summary.get("risk_level"), summary.get("summary_zh"),
             (summary.get("analysis") or {}).get("key")),
        )
        conn.executemany(
            "INSERT INTO facts VALUES (?, ?, ?, ?)",
            [(call_id, fact, summary["facts"][fact]["value"], summary["facts"][fact]["confidence"]) for fact in FACTS],
        )
        conn.executemany(
            "INSERT INTO flags VALUES (?, ?, ?, ?)",
            [(call_id, f["code"], f["severity"], f["reason"]) for f in summary.get("flags", [])],
        )


def previous_calls(conn: sqlite3.Connection, loan_id: str | None, called_at: str, call_id: str, limit: int = 5) -> list[dict]:
    """The loan's earlier calls, newest first."""
    if not loan_id:
        return []
    rows = conn.execute(
        "SELECT call_id, called_at, call_outcome, risk_level, summary_zh FROM calls "
        "WHERE loan_id = ? AND call_id != ? AND called_at < ? ORDER BY called_at DESC LIMIT ?",
        (loan_id, call_id, called_at or "9999", limit),
    ).fetchall()
    history = []
    for prev_id, prev_at, outcome, level, summary_zh in rows:
        codes = [c for (c,) in conn.execute("SELECT code FROM flags WHERE call_id = ? ORDER BY code", (prev_id,))]
        history.append({"call_id": prev_id, "called_at": prev_at, "call_outcome": outcome, "risk_level": level, "flags": codes, "summary_zh": summary_zh})
    return history


def repeated_flags(summary: dict, history: list[dict]) -> list[str]:
    """Flags of this call that the loan's previous call raised too."""
    if not history:
        return []
    now = {f["code"] for f in summary.get("flags", [])}
    return [code for code in REPEAT_ESCALATES if code in now and code in history[0]["flags"]]


def apply_history(summary: dict, history: list[dict]) -> dict:
    """Attach the loan's previous calls; a risk repeated from the previous call escalates."""
    summary["history"] = history
    repeated = repeated_flags(summary, history)
    summary["history_escalation"] = {"repeated_flags": repeated} if repeated else None
    if repeated:
        names = "、".join(_REPEAT_NAMES[c] for c in repeated)
        note = f"该笔贷款上次回访已出现{names}，本次再次出现，需升级处理。"
        if note not in summary["summary_zh"]:
            summary["summary_zh"] = summary["summary_zh"] + note
        if "escalate_to_risk_committee" not in summary["actions"]:
            summary["actions"].append("escalate_to_risk_committee")
    return summary
