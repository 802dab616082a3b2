"""The loans' call history: an embedded SQLite database of every analysed call, its facts and flags.

Reviewers need a loan's previous calls, not just tonight's: a borrower whose
repayment was strained on three calls in a row is a different case from one
bad week. The database lives under the output root (or where ``--history``
points, to share it between nightly output folders); a call is stored once
(keyed by call id) however often it is re-analysed.

The database records its schema version (table ``meta``). A v1 database (no
``meta``) is migrated in place on first connect: ``calls`` gains
``conduct_level`` and ``schema_version``, ``facts`` gains ``needs_review``, and
each v1 call's risk_level is recomputed from its stored credit flags and its
conduct_level from its conduct flags (v1 counted the agent's conduct as risk).
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from pipeline.labels import CREDIT_FLAGS, FACTS, SCHEMA_VERSION
from pipeline.judgement.risk import conduct_level, order_actions, risk_level

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
    analysis_key TEXT,
    conduct_level TEXT,
    schema_version INTEGER
);
CREATE INDEX IF NOT EXISTS calls_by_loan ON calls (loan_id, called_at);
CREATE TABLE IF NOT EXISTS facts (
    call_id TEXT REFERENCES calls(call_id) ON DELETE CASCADE,
    fact TEXT,
    value TEXT,
    confidence REAL,
    needs_review INTEGER,
    PRIMARY KEY (call_id, fact)
);
CREATE TABLE IF NOT EXISTS flags (
    call_id TEXT REFERENCES calls(call_id) ON DELETE CASCADE,
    code TEXT,
    severity TEXT,
    reason TEXT,
    PRIMARY KEY (call_id, code)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
"""
# Columns that v2 added to v1's tables: (table, column, type).
_V2_COLUMNS = (("calls", "conduct_level", "TEXT"), ("calls", "schema_version", "INTEGER"), ("facts", "needs_review", "INTEGER"))
# Credit flags that, raised again on the loan's previous call, call for escalation.
# Conduct flags never escalate: they say nothing about the borrower.
REPEAT_ESCALATES = ("REPAYMENT_RISK", "BUSINESS_DETERIORATION", "COLLATERAL_RISK", "PROJECT_RISK", "CONTACT_FAILED")
_REPEAT_NAMES = {"REPAYMENT_RISK": "还款风险", "BUSINESS_DETERIORATION": "经营恶化", "COLLATERAL_RISK": "抵押物风险",
                 "PROJECT_RISK": "项目风险", "CONTACT_FAILED": "联系失败"}


def connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn)
    return conn


def schema_version(conn: sqlite3.Connection) -> int | None:
    """The version the database records; 1 for a v1 database (calls but no meta); None when empty."""
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row:
            return int(row[0])
    return 1 if "calls" in tables else None


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database to SCHEMA_VERSION: create it, or add v2's columns to a v1 one and relevel its calls.

    Safe to repeat: a migration killed half-way finishes on the next connect
    (the version is written last).
    """
    found = schema_version(conn)
    if found is not None and found > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"history database has schema version {found}, newer than this huifang ({SCHEMA_VERSION})")
    with conn:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        for table, column, kind in _V2_COLUMNS:
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        if found == 1:
            _relevel_v1_calls(conn)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _relevel_v1_calls(conn: sqlite3.Connection) -> None:
    """v1 calls: risk_level from the stored credit flags only, conduct_level from the conduct flags, version 1 kept."""
    for (call_id,) in conn.execute("SELECT call_id FROM calls WHERE schema_version IS NULL").fetchall():
        flags = [{"code": c, "severity": s} for c, s in conn.execute("SELECT code, severity FROM flags WHERE call_id = ?", (call_id,))]
        conn.execute(
            "UPDATE calls SET risk_level = ?, conduct_level = ?, schema_version = 1 WHERE call_id = ?",
            (risk_level(flags), conduct_level(flags), call_id),
        )


def record(conn: sqlite3.Connection, summary: dict, batch: str) -> None:
    """Store (or replace) one analysed call with its facts and flags, in one transaction."""
    if summary.get("status") != "analyzed":
        return
    call_id = summary["call_id"]
    manifest = summary.get("manifest") or {}
    with conn:
        conn.execute("DELETE FROM calls WHERE call_id = ?", (call_id,))
        conn.execute(
            "INSERT INTO calls (call_id, loan_id, called_at, batch, status, call_outcome, risk_level, summary_zh, analysis_key,"
            " conduct_level, schema_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (call_id, summary.get("loan_id"), manifest.get("called_at") or "", batch, summary["status"],
             summary.get("call_outcome"), summary.get("risk_level"), summary.get("summary_zh"),
             (summary.get("analysis") or {}).get("key"), summary.get("conduct_level"), summary.get("schema_version")),
        )
        conn.executemany(
            "INSERT INTO facts (call_id, fact, value, confidence, needs_review) VALUES (?, ?, ?, ?, ?)",
            [(call_id, fact, summary["facts"][fact]["value"], summary["facts"][fact]["confidence"],
              summary["facts"][fact].get("needs_review")) for fact in FACTS],
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
        "SELECT call_id, called_at, call_outcome, risk_level, conduct_level, summary_zh FROM calls "
        "WHERE loan_id = ? AND call_id != ? AND called_at < ? ORDER BY called_at DESC LIMIT ?",
        (loan_id, call_id, called_at or "9999", limit),
    ).fetchall()
    history = []
    for prev_id, prev_at, outcome, level, conduct, summary_zh in rows:
        codes = [c for (c,) in conn.execute("SELECT code FROM flags WHERE call_id = ? ORDER BY code", (prev_id,))]
        history.append({"call_id": prev_id, "called_at": prev_at, "call_outcome": outcome, "risk_level": level,
                        "conduct_level": conduct, "flags": codes, "summary_zh": summary_zh})
    return history


def repeated_flags(summary: dict, history: list[dict]) -> list[str]:
    """Credit flags of this call that the loan's previous call raised too (never a conduct flag)."""
    if not history:
        return []
    now = {f["code"] for f in summary.get("flags", []) if f["code"] in CREDIT_FLAGS}
    return [code for code in REPEAT_ESCALATES if code in now and code in history[0]["flags"]]


def apply_history(summary: dict, history: list[dict]) -> dict:
    """Attach the loan's previous calls; a credit risk repeated from the previous call is marked.

    The contract lets only a high or critical risk_level call for the risk
    committee (which may freeze credit), so a repeated medium risk asks for
    closer follow-up and says so; ``history_escalation`` names the repeated flags
    for the reviewers either way.
    """
    summary["history"] = history
    repeated = repeated_flags(summary, history)
    summary["history_escalation"] = {"repeated_flags": repeated} if repeated else None
    if repeated:
        names = "、".join(_REPEAT_NAMES[c] for c in repeated)
        note = f"该笔贷款上次回访已出现{names}，本次再次出现，需重点跟进。"
        if note not in summary["summary_zh"]:
            summary["summary_zh"] = summary["summary_zh"] + note
        wanted = ["increase_followup_frequency"]
        if summary.get("risk_level") in ("high", "critical"):
            wanted.append("escalate_to_risk_committee")
        summary["actions"] = order_actions([*summary["actions"], *wanted])
    return summary
