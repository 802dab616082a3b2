"""The reviewers' decisions layered over the machine's summaries, and the reviewed report and workbook.

The machine's files stay as they were written; the overlay writes
``report.reviewed.html`` and ``reviewers.reviewed.xlsx`` beside them, where
corrected facts replace the machine's values, dismissed flags are gone, flags a
reviewer added are there, and each call says its review status and what changed.
"""
from __future__ import annotations

import copy
from pathlib import Path

from pipeline.labels import FACT_NAMES_ZH, FLAG_NAMES_ZH, VALUE_NAMES_ZH
from pipeline.review.nights import Night, load_summaries
from pipeline.review.store import DEFAULT_STATUS, CallReview, current_reviews

REPORT_NAME = "report.reviewed.html"
XLSX_NAME = "reviewers.reviewed.xlsx"


def _value_zh(fact: str, value: str | None) -> str:
    return VALUE_NAMES_ZH.get(fact, {}).get(str(value), str(value))


def corrections_zh(summary: dict, review: CallReview) -> list[str]:
    """What the reviewers changed, one short Chinese phrase each."""
    parts = []
    for fact, d in sorted((review.facts or {}).items()):
        parts.append(f"{FACT_NAMES_ZH.get(fact, fact)}：{_value_zh(fact, d.before)}→{_value_zh(fact, d.after)}")
    for code, d in sorted((review.flags or {}).items()):
        verdict = {"confirmed": "确认", "dismissed": "驳回", "added": "补充"}.get(d.after or "", d.after or "")
        parts.append(f"{FLAG_NAMES_ZH.get(code, code)}：{verdict}" + (f"（{d.reason}）" if d.reason else ""))
    return parts


def apply_review(summary: dict, review: CallReview | None) -> dict:
    """A copy of ``summary`` with the review layered over it; ``review`` key says what changed."""
    out = copy.deepcopy(summary)
    if review is None or not review.touched:
        out["review"] = {"status": DEFAULT_STATUS, "corrections": [], "reviewers": []}
        return out
    facts = out.get("facts") if isinstance(out.get("facts"), dict) else {}
    for fact, d in (review.facts or {}).items():
        if isinstance(facts.get(fact), dict):
            facts[fact]["machine_value"] = facts[fact].get("value")
            facts[fact]["value"] = d.after
            facts[fact]["needs_review"] = False
            if d.evidence:
                ev = {k: d.evidence[k] for k in ("start", "end", "speaker", "text") if k in d.evidence}
                facts[fact]["evidence"] = [ev] + [e for e in facts[fact].get("evidence") or [] if e.get("start") != ev.get("start")]
    flags = []
    for flag in out.get("flags") or []:
        d = (review.flags or {}).get(flag.get("code"))
        if d is not None and d.after == "dismissed":
            continue
        if d is not None and d.after == "confirmed":
            flag = {**flag, "reason": f"【复核确认】{flag.get('reason', '')}"}
        flags.append(flag)
    have = {f.get("code") for f in flags}
    for code, d in (review.flags or {}).items():
        if d.after == "added" and code not in have:
            flags.append({"code": code, "severity": "medium", "reason": f"【复核补充】{d.reason}", "evidence": []})
    out["flags"] = flags
    corrections = corrections_zh(summary, review)
    who = "、".join(sorted(review.reviewers or []))
    banner = f"【复核：{review.status}；复核人：{who}" + (f"；更正：{'；'.join(corrections)}" if corrections else "") + "】"
    out["summary_zh"] = banner + str(out.get("summary_zh") or "")
    out["review"] = {"status": review.status, "corrections": corrections, "reviewers": sorted(review.reviewers or []),
                     "notes": [n.after for n in review.notes or []]}
    return out


def write_reviewed_outputs(conn, night: Night) -> tuple[Path, Path]:
    """Write the night's reviewed report and workbook (the machine's own stay untouched)."""
    from openpyxl import load_workbook

    from pipeline.outputs.files import atomic_write
    from pipeline.outputs.report import render_report, write_reviewers_xlsx

    reviews = current_reviews(conn, night.name)
    overlaid = [apply_review(s, reviews.get((night.name, cid))) for cid, s in load_summaries(night).items()]
    report = night.out_dir / REPORT_NAME
    render_report(overlaid, report, batch_dir=night.batch_dir,
                  run_info={"batch": f"{night.name}（含人工复核）"})
    xlsx = night.out_dir / XLSX_NAME
    write_reviewers_xlsx(overlaid, xlsx)
    # Two columns more: the review status and the corrections, matched by call id (column A).
    wb = load_workbook(xlsx)
    ws = wb.active
    by_id = {s["call_id"]: s["review"] for s in overlaid}
    status_col, changes_col = ws.max_column + 1, ws.max_column + 2
    ws.cell(row=1, column=status_col, value="复核状态")
    ws.cell(row=1, column=changes_col, value="复核更正")
    for row in range(2, ws.max_row + 1):
        review = by_id.get(ws.cell(row=row, column=1).value) or {}
        for col, value in ((status_col, review.get("status", DEFAULT_STATUS)), (changes_col, "；".join(review.get("corrections", [])))):
            cell = ws.cell(row=row, column=col, value=value)
            cell.data_type = "s"
    atomic_write(xlsx, lambda tmp: wb.save(tmp))
    return report, xlsx
