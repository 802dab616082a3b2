"""Reviewers, sessions and the append-only decision trail, as tables of the history database.

The trail is the auditor's evidence, so it is append-only by construction:
SQLite triggers abort every UPDATE or DELETE on ``decisions``. The current state
of a call (a flag's verdict, a fact's value, the status) is the latest record for
that target; nothing earlier is ever lost.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.outputs.history import connect as connect_history

REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviewers (
    username TEXT PRIMARY KEY,
    display_name TEXT,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'supervisor')),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS review_sessions (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES reviewers(username),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_attempts (
    username TEXT NOT NULL,
    client TEXT,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_by_user ON login_attempts (username, at);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    night TEXT NOT NULL,
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('flag', 'fact', 'note', 'status', 'view_unmasked')),
    target TEXT NOT NULL DEFAULT '',
    before TEXT,
    after TEXT,
    reason TEXT NOT NULL DEFAULT '',
    evidence TEXT
);
CREATE INDEX IF NOT EXISTS decisions_by_call ON decisions (night, call_id, kind, target, id);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the review trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the review trail is append-only'); END;
"""

ROLES = ("reviewer", "supervisor")
KINDS = ("flag", "fact", "note", "status", "view_unmasked")
FLAG_VERDICTS = ("confirmed", "dismissed")
REVIEW_STATUSES = ("待复核", "已复核", "已上报风险委员会", "已转坐席主管")
DEFAULT_STATUS = REVIEW_STATUSES[0]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def connect(path: Path) -> sqlite3.Connection:
    """The history database with the review tables added (the analysis tables stay as they are)."""
    conn = connect_history(Path(path))
    conn.executescript(REVIEW_SCHEMA)
    conn.row_factory = sqlite3.Row
    return conn


@dataclass
class Decision:
    """One row of the trail."""

    id: int
    at: str
    reviewer: str
    night: str
    call_id: str
    kind: str
    target: str
    before: str | None
    after: str | None
    reason: str
    evidence: dict | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Decision":
        data = dict(row)
        data["evidence"] = json.loads(data["evidence"]) if data.get("evidence") else None
        return cls(**data)


def record_decision(conn: sqlite3.Connection, *, reviewer: str, night: str, call_id: str, kind: str,
                    target: str = "", before: str | None = None, after: str | None = None, reason: str = "",
                    evidence: dict | None = None, at: str | None = None) -> int:
    """Append one decision; returns its id."""
    if kind not in KINDS:
        raise ValueError(f"unknown decision kind {kind!r}")
    with conn:
        cur = conn.execute(
            "INSERT INTO decisions (at, reviewer, night, call_id, kind, target, before, after, reason, evidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at or now_iso(), reviewer, night, call_id, kind, target, before, after, reason or "",
             json.dumps(evidence, ensure_ascii=False) if evidence else None),
        )
    return int(cur.lastrowid)


def decisions(conn: sqlite3.Connection, *, night: str | None = None, call_id: str | None = None,
              since: str | None = None, until: str | None = None, kinds: tuple[str, ...] | None = None) -> list[Decision]:
    """The trail in the order it was written, optionally narrowed."""
    where, args = [], []
    for column, value in (("night", night), ("call_id", call_id)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if since:
        where.append("at >= ?")
        args.append(since)
    if until:
        where.append("at < ?")
        args.append(until)
    if kinds:
        where.append(f"kind IN ({','.join('?' * len(kinds))})")
        args.extend(kinds)
    sql = "SELECT * FROM decisions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [Decision.from_row(r) for r in conn.execute(sql, args)]


@dataclass
class CallReview:
    """The reviewers' current view of one call: the latest decision per target."""

    status: str = DEFAULT_STATUS
    flags: dict[str, Decision] | None = None  # code -> latest verdict
    facts: dict[str, Decision] | None = None  # fact -> latest correction
    notes: list[Decision] | None = None
    reviewers: set[str] | None = None
    last_at: str | None = None

    @property
    def touched(self) -> bool:
        return bool(self.flags or self.facts or self.notes or self.status != DEFAULT_STATUS)


def current_reviews(conn: sqlite3.Connection, night: str | None = None) -> dict[tuple[str, str], CallReview]:
    """(night, call_id) -> CallReview, folding the trail in order (later decisions win)."""
    reviews: dict[tuple[str, str], CallReview] = {}
    for d in decisions(conn, night=night, kinds=("flag", "fact", "note", "status")):
        review = reviews.setdefault((d.night, d.call_id), CallReview(flags={}, facts={}, notes=[], reviewers=set()))
        review.reviewers.add(d.reviewer)
        review.last_at = d.at
        if d.kind == "flag":
            review.flags[d.target] = d
        elif d.kind == "fact":
            review.facts[d.target] = d
        elif d.kind == "note":
            review.notes.append(d)
        elif d.kind == "status":
            review.status = d.after or DEFAULT_STATUS
    return reviews


def call_review(conn: sqlite3.Connection, night: str, call_id: str) -> CallReview:
    return current_reviews(conn, night).get((night, call_id)) or CallReview(flags={}, facts={}, notes=[], reviewers=set())


EXPORT_COLUMNS = ("id", "at", "reviewer", "night", "call_id", "kind", "target", "before", "after", "reason", "evidence")
EXPORT_NAMES_ZH = ("序号", "时间(UTC)", "复核人", "批次", "通话编号", "类型", "对象", "原值", "新值", "理由", "证据")


def export_rows(items: list[Decision]) -> list[list[str]]:
    rows = []
    for d in items:
        ev = d.evidence or {}
        evidence = f"[{ev.get('start', '')}s {ev.get('speaker', '')}] {ev.get('text', '')}" if ev else ""
        rows.append([str(d.id), d.at, d.reviewer, d.night, d.call_id, d.kind, d.target, d.before or "",
                     d.after or "", d.reason, evidence])
    return rows


def export_trail(conn: sqlite3.Connection, path: Path, *, since: str | None = None, until: str | None = None,
                 fmt: str = "xlsx") -> int:
    """Write the trail (decisions and unmasked views) to xlsx or CSV; returns the number of records."""
    from pipeline.outputs.files import atomic_write, atomic_write_text

    rows = export_rows(decisions(conn, since=since, until=until))
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
        atomic_write_text(Path(path), "\ufeff" + buffer.getvalue())  # BOM: Excel opens UTF-8 CSV as such
        return len(rows)
    if fmt != "xlsx":
        raise ValueError(f"unknown export format {fmt!r} (xlsx or csv)")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "复核记录"
    ws.append(list(EXPORT_NAMES_ZH))
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            cell.data_type = "s"  # text stays text: '=...' never becomes a formula
    atomic_write(Path(path), lambda tmp: wb.save(tmp))
    return len(rows)
