"""The nightly output folders under a root, their call summaries, and the reviewers' queue.

A root is either one run's output folder (it has ``calls/``) or a folder of them
(``huifang serve`` writes ``<out>/<batch>/``). Each output folder is a *night*,
named by its folder. Summaries are read, never written.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.labels import FACTS
from pipeline.review.store import DEFAULT_STATUS, CallReview

LEVEL_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 0, "none": 0}
CALLBACK_OUTCOMES = ("not_connected", "wrong_party")


@dataclass
class Night:
    name: str
    out_dir: Path
    batch_dir: Path | None  # where the recordings are (from run.json), when known


def find_nights(root: Path) -> dict[str, Night]:
    """name -> Night for the root itself and each direct subfolder that holds ``calls/``."""
    root = Path(root)
    folders: list[Path] = []
    if root.is_dir():
        folders = ([root] if (root / "calls").is_dir() else []) + sorted(
            p for p in root.iterdir() if p.is_dir() and (p / "calls").is_dir())
    nights: dict[str, Night] = {}
    for folder in folders:
        nights[folder.resolve().name] = Night(folder.resolve().name, folder.resolve(), _batch_dir(folder))
    return nights


def _batch_dir(out_dir: Path) -> Path | None:
    try:
        batch = json.loads((out_dir / "run.json").read_text(encoding="utf-8")).get("batch")
    except (OSError, ValueError, AttributeError):
        return None
    if not batch:
        return None
    path = Path(batch)
    return path.resolve() if path.is_dir() else None


def load_summaries(night: Night) -> dict[str, dict]:
    """call_id -> summary; a file that is not a readable summary is skipped (the run's own report names it)."""
    summaries: dict[str, dict] = {}
    for path in sorted((night.out_dir / "calls").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("call_id"):
            summaries[str(data["call_id"])] = data
    return summaries


_CALL_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def load_summary(night: Night, call_id: str) -> dict | None:
    """One call's summary, or None (an id outside the contract's shape never reaches the file system)."""
    if not _CALL_ID.match(call_id) or call_id in (".", ".."):
        return None
    try:
        data = json.loads((night.out_dir / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and str(data.get("call_id")) == call_id else None


def audio_file(night: Night, summary: dict) -> Path | None:
    """The recording of a call, only when it exists inside the night's batch folder."""
    rel = summary.get("audio_path")
    if not rel or night.batch_dir is None:
        return None
    target = (night.batch_dir / str(rel)).resolve()
    if not target.is_file() or not target.is_relative_to(night.batch_dir):
        return None
    return target


def agent_of(summary: dict) -> str:
    manifest = summary.get("manifest") or {}
    return str(manifest.get("agent_id") or manifest.get("agent_name") or "")


def needs_review_facts(summary: dict) -> list[str]:
    facts = summary.get("facts") if isinstance(summary.get("facts"), dict) else {}
    return [f for f in FACTS if isinstance(facts.get(f), dict) and facts[f].get("needs_review")]


@dataclass
class QueueItem:
    night: str
    call_id: str
    loan_id: str
    agent: str
    called_at: str
    failed: bool
    callback: bool
    risk_level: str
    conduct_level: str
    flags: list[str]
    needs_review: list[str]
    summary_zh: str
    status: str = DEFAULT_STATUS
    reviewers: list[str] = field(default_factory=list)

    @property
    def urgency(self) -> tuple:
        """Most urgent first: the worse of risk and conduct level, facts to check, failed, callbacks."""
        level = max(LEVEL_RANK.get(self.risk_level, 0), LEVEL_RANK.get(self.conduct_level, 0))
        return (self.status != DEFAULT_STATUS, -level, -len(self.needs_review), not self.failed, not self.callback,
                -len(self.flags), self.called_at, self.call_id)


def queue_item(night: str, summary: dict, review: CallReview | None) -> QueueItem:
    failed = summary.get("status") == "failed"
    codes = [str(f.get("code")) for f in summary.get("flags") or [] if isinstance(f, dict)]
    manifest = summary.get("manifest") or {}
    return QueueItem(
        night=night, call_id=str(summary["call_id"]), loan_id=str(summary.get("loan_id") or ""),
        agent=agent_of(summary), called_at=str(manifest.get("called_at") or ""), failed=failed,
        callback=not failed and (summary.get("call_outcome") in CALLBACK_OUTCOMES or "CONTACT_FAILED" in codes),
        risk_level=str(summary.get("risk_level") or ("" if failed else "low")),
        conduct_level=str(summary.get("conduct_level") or "none"),  # contract v2; older summaries lack it
        flags=codes, needs_review=needs_review_facts(summary), summary_zh=str(summary.get("summary_zh") or ""),
        status=review.status if review else DEFAULT_STATUS,
        reviewers=sorted(review.reviewers) if review and review.reviewers else [],
    )


def build_queue(nights: dict[str, Night], reviews: dict[tuple[str, str], CallReview], filters: dict[str, str]) -> list[QueueItem]:
    """Every call of every night, filtered (night, loan, flag, agent, reviewer, status), most urgent first."""
    items = []
    for name, night in nights.items():
        if filters.get("night") and filters["night"] != name:
            continue
        for summary in load_summaries(night).values():
            items.append(queue_item(name, summary, reviews.get((name, str(summary["call_id"])))))
    want = {k: v for k, v in filters.items() if v}
    items = [i for i in items
             if (not want.get("loan") or want["loan"] in i.loan_id)
             and (not want.get("flag") or want["flag"] in i.flags)
             and (not want.get("agent") or want["agent"] == i.agent)
             and (not want.get("reviewer") or want["reviewer"] in i.reviewers)
             and (not want.get("status") or want["status"] == i.status)]
    return sorted(items, key=lambda i: i.urgency)
