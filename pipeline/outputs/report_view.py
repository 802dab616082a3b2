"""What the reviewers' report shows of a batch, as plain dicts: the templates in templates/report only display them.

The urgency order, the overview's counts and charts, the table's rows and filters are
decided here; each call's own section comes from report_call.call_view. Free text
leaves masked (``mask_pii``) but not escaped: the templates escape what they print.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pipeline.labels import ACTION_NAMES_ZH, CONDUCT_LEVELS, FLAG_CODES, FLAG_NAMES_ZH, OUTCOME_NAMES_ZH, RISK_LEVELS
from pipeline.outputs.report_call import (
    STATUS_NAMES_ZH,
    agent,
    audio_warning,
    audio_src,
    call_view,
    called_at,
    chip,
    conduct_name,
    conduct_of,
    field,
    flag_codes,
    flags_of,
    ident,
    is_failed,
    needs_callback,
    risk_name,
    risk_of,
    text,
    time_display,
)
from pipeline.judgement.risk import LEVEL_RANK, conduct_level_of, worse_level

# Most urgent first; failed calls come after the analysed ones (their risk is unknown).
_RISK_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
_UNKNOWN_RANK = 3.5
_FAILED_RANK = 4
_RUN_INFO_NAMES_ZH = {
    "batch": "批次",
    "generated_at": "生成时间",
    "pipeline_version": "程序版本",
    "model": "识别模型",
    "n_calls": "通话数",
    "n_failed": "失败数",
}
_TABLE_HEADS = ("通话编号", "贷款编号", "借款人", "通话时间", "接通情况", "风险等级", "通话行为", "风险标记", "建议措施", "状态")


def urgency_key(summary: dict) -> tuple:
    """Sort key, most urgent first by the worse of risk_level and conduct_level (critical > high > medium > low/none), then failed, then more flags."""
    if is_failed(summary):
        rank: float = _FAILED_RANK
    else:
        worst = worse_level(summary.get("risk_level"), conduct_level_of(summary))
        rank = LEVEL_RANK.get(worst or "", _UNKNOWN_RANK)
    return (rank, -len(flags_of(summary)), called_at(summary), str(summary.get("call_id") or ""))


def by_urgency(summaries: Iterable[dict]) -> list[dict]:
    return sorted((s for s in summaries if isinstance(s, dict)), key=urgency_key)


# --- overview, table and page ---------------------------------------------------------------


def _bars(rows: list[tuple[str, str, int, str, str]], total: int) -> list[dict]:
    """A CSS bar chart's rows from (label, css class, count, filter key, filter value)."""
    top = max([total] + [row[2] for row in rows]) or 1
    return [
        {"label": label, "cls": cls, "count": count, "width": f"{100 * count / top:.1f}", "filter": key, "value": value}
        for label, cls, count, key, value in rows
    ]


def _callback_item(summary: dict) -> dict:
    outcome = OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", "联系失败")
    parts = [ident(summary.get("loan_id")), text(field(summary, "borrower_name")),
             text(time_display(called_at(summary))), outcome]
    return {"call_id": ident(summary.get("call_id")), "parts": [p for p in parts if p]}


def overview_view(summaries: list[dict], run_info: dict | None = None) -> dict:
    """The batch at a glance: counts, three charts that set the filters, and the lists to act on."""
    total = len(summaries)
    failed = [s for s in summaries if is_failed(s)]
    callbacks = [s for s in summaries if needs_callback(s)]
    risks = Counter(risk_of(s) for s in summaries)
    flag_counts = Counter(code for s in summaries for code in set(flag_codes(s)))
    conducts = Counter(conduct_of(s) for s in summaries)
    errors = (run_info or {}).get("manifest_errors")
    return {
        "cards": [
            ("通话总数", total, ""),
            ("严重 / 高风险", risks["critical"] + risks["high"], "risk-high"),
            ("有风险标记", sum(1 for s in summaries if flags_of(s)), "risk-medium"),
            ("通话行为问题", sum(1 for s in summaries if conduct_of(s) in ("medium", "high")), "risk-medium"),
            ("需回拨", len(callbacks), ""),
            ("处理失败", len(failed), "risk-failed" if failed else ""),
        ],
        "risk_bars": _bars([(risk_name(r), f"risk-{r}", risks[r], "risk", r)
                            for r in ("critical", "high", "medium", "low", "failed") if r != "failed" or risks[r]], total),
        "conduct_bars": _bars([(conduct_name(c), f"risk-{'low' if c == 'none' else c}", conducts[c], "conduct", c)
                               for c in ("high", "medium", "none")], total),
        "flag_bars": _bars([(FLAG_NAMES_ZH.get(c, c), "flagbar", flag_counts[c], "flags", c)
                            for c in [*FLAG_CODES, *sorted(set(flag_counts) - set(FLAG_CODES))] if flag_counts[c]], total),
        "callbacks": [_callback_item(s) for s in callbacks],
        "failed": [{"call_id": ident(s.get("call_id")), "error": text(s.get("error") or "未知错误")} for s in failed],
        "manifest_errors": [text(e) for e in errors if e] if isinstance(errors, list) else [],
    }


def _filters(summaries: list[dict]) -> list[dict]:
    """The table's filters: (data-* key, label, options as (value, text)) for what occurs in the batch."""
    risks = {risk_of(s) for s in summaries}
    conducts = {conduct_of(s) for s in summaries}
    flags = {c for s in summaries for c in flag_codes(s)}
    outcomes = {s.get("call_outcome") for s in summaries if s.get("call_outcome")}
    loans = sorted({str(s.get("loan_id")) for s in summaries if s.get("loan_id")})
    agents = sorted({agent(s) for s in summaries if agent(s)})
    flag_order = [c for c in (*FLAG_CODES, *sorted(flags - set(FLAG_CODES))) if c in flags]
    selects = [
        ("risk", "风险等级", [(r, risk_name(r)) for r in (*RISK_LEVELS[::-1], "failed") if r in risks]),
        ("conduct", "通话行为", [(c, conduct_name(c)) for c in CONDUCT_LEVELS[::-1] if c in conducts]),
        ("flags", "风险标记", [(c, FLAG_NAMES_ZH.get(c, c)) for c in flag_order]),
        ("loan", "贷款", [(loan, loan) for loan in loans]),
        ("outcome", "接通情况", [(o, OUTCOME_NAMES_ZH.get(o, o)) for o in sorted(outcomes)]),
    ]
    if agents:
        selects.append(("agent", "坐席", [(text(a), text(a)) for a in agents]))
    return [{"key": key, "label": label, "options": options} for key, label, options in selects]


def _row(summary: dict) -> dict:
    """One table row: data-* attributes for the filters, and per cell a sort key and what it shows."""
    risk, conduct, codes = risk_of(summary), conduct_of(summary), flag_codes(summary)
    severities = {str(f["code"]): f.get("severity") for f in flags_of(summary)}
    status = summary.get("status") or "analyzed"
    rank = _FAILED_RANK if risk == "failed" else _RISK_RANK.get(risk, _UNKNOWN_RANK)
    attrs = {
        "call-id": summary.get("call_id"), "flags": " ".join(codes), "risk": risk, "conduct": conduct,
        "outcome": summary.get("call_outcome") or "", "loan": summary.get("loan_id") or "",
        "agent": text(agent(summary)), "status": status,
    }
    return {
        "attrs": [(key, ident(value)) for key, value in attrs.items()],
        "sort": [str(summary.get("call_id") or ""), str(summary.get("loan_id") or ""),
                 text(field(summary, "borrower_name")), called_at(summary), summary.get("call_outcome") or "",
                 str(rank), str(LEVEL_RANK.get(conduct, _UNKNOWN_RANK)), str(len(codes)), "", status],
        "call_id": ident(summary.get("call_id")),
        "loan_id": ident(summary.get("loan_id")),
        "borrower": text(field(summary, "borrower_name")),
        "time": text(time_display(called_at(summary))),
        "outcome": OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", "—"),
        "risk": risk, "risk_name": risk_name(risk),
        "conduct": conduct, "conduct_name": conduct_name(conduct),
        "audio_warning": audio_warning(summary),
        "chips": [chip(c, severities.get(c)) for c in codes],
        "actions": [text(ACTION_NAMES_ZH.get(a, a)) for a in summary.get("actions") or [] if a],
        "status_name": STATUS_NAMES_ZH.get(status, status),
        "error": text(summary.get("error")) if is_failed(summary) else None,
    }


def _run_info(run_info: dict | None, summaries: list[dict]) -> list[tuple[str, str]]:
    info = dict(run_info or {})
    info.setdefault("n_calls", len(summaries))
    info.setdefault("n_failed", sum(1 for s in summaries if is_failed(s)))
    parts = []
    for key, value in info.items():
        if value in (None, "") or isinstance(value, (dict, list)):
            continue
        shown = time_display(str(value)) if key == "generated_at" else value
        parts.append((text(_RUN_INFO_NAMES_ZH.get(key, str(key))), text(shown)))
    return parts


def page_view(summaries: Iterable[dict], path: Path, batch_dir: Path | None, run_info: dict | None) -> dict:
    """Everything the report page shows, most urgent call first."""
    ordered = by_urgency(summaries)
    batch = (run_info or {}).get("batch")
    return {
        "title": "贷后回访合规审查报告" + (f" · {text(batch)}" if batch else ""),
        "run_info": _run_info(run_info, ordered),
        "overview": overview_view(ordered, run_info),
        "filters": _filters(ordered),
        "heads": _TABLE_HEADS,
        "rows": [_row(s) for s in ordered],
        "calls": [call_view(s, audio_src(s, path, batch_dir)) for s in ordered],
    }
