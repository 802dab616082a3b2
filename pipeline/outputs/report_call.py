"""What the report shows of one call, as plain dicts: the templates in templates/report only display them.

The labels, the masking of personal numbers (``mask_pii``), the evidence times and the
audio links are decided here; the batch's order, overview and table in report_view.py.
Free text leaves this module masked but *not* escaped: the Jinja2 templates escape
every value they print (autoescape), so nothing is escaped twice or forgotten.
Identifiers (call id, loan id) stay unmasked: reviewers need them to find the loan.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.labels import (
    ACTION_NAMES_ZH,
    CONDUCT_LEVELS,
    CONDUCT_NAMES_ZH,
    FACT_NAMES_ZH,
    FACTS,
    FLAG_NAMES_ZH,
    OUTCOME_NAMES_ZH,
    RISK_LEVELS,
    RISK_NAMES_ZH,
    SPEAKER_NAMES_ZH,
    SPEAKERS,
    VALUE_NAMES_ZH,
)
from pipeline.outputs.privacy import mask_pii
from pipeline.judgement.risk import conduct_level_of

_CALLBACK_OUTCOMES = ("not_connected", "wrong_party")
STATUS_NAMES_ZH = {"analyzed": "已分析", "failed": "处理失败"}
_MANIFEST_NAMES_ZH = {
    "borrower_name": "借款人",
    "called_at": "通话时间",
    "loan_amount": "贷款金额",
    "loan_purpose": "合同约定用途",
    "collateral": "抵押物",
    "agent_id": "坐席工号",
    "agent_name": "坐席姓名",
}
# Shown in the call header already, or of no use to a reviewer.
_MANIFEST_HIDDEN = {
    "call_id", "loan_id", "audio_path", "agent_channel", "borrower_name", "called_at", "agent_id", "agent_name",
}
# Fact values that are no finding; any other value is shown in red.
_UNREMARKABLE = {None, "not_mentioned", "normal", "intact", "on_schedule", "business_operation"}


# --- small helpers -------------------------------------------------------------------------


def text(value: Any) -> str:
    """Masked plain text of any value (None -> ""): the only way free text reaches a page or the workbook."""
    if value is None:
        return ""
    return mask_pii(str(value))


def ident(value: Any) -> str:
    """An identifier as shown and as matched by the filters (not masked)."""
    return "" if value is None else str(value)


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _clock(seconds: float) -> str:
    """00:12 or 1:02:03, as reviewers read times in a recording."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def seek(start: Any) -> dict | None:
    """A time that jumps the call's player to ``start``: {"t": data-t, "clock": shown}, or None."""
    t = _as_float(start)
    if t is None or t < 0:
        return None
    return {"t": f"{t:.2f}".rstrip("0").rstrip(".") or "0", "clock": _clock(t)}


def _duration_zh(seconds: Any) -> str:
    t = _as_float(seconds)
    if t is None:
        return ""
    minutes, secs = divmod(int(round(t)), 60)
    return f"{minutes}分{secs:02d}秒" if minutes else f"{secs}秒"


def _percent(value: Any) -> str:
    number = _as_float(value)
    return "" if number is None else f"{number * 100:.0f}%"


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def field(summary: dict, key: str) -> Any:
    """A manifest field, falling back to the summary's own key (flattened rows carry it there)."""
    value = _dict(summary.get("manifest")).get(key)
    return value if value not in (None, "") else summary.get(key)


def called_at(summary: dict) -> str:
    return "" if field(summary, "called_at") is None else str(field(summary, "called_at"))


def time_display(iso: str) -> str:
    """'2026-03-01 19:02' from an ISO time; the raw text when it is not ISO or has no time."""
    if len(iso) <= 10:
        return iso
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def agent(summary: dict) -> str:
    name, agent_id = field(summary, "agent_name"), field(summary, "agent_id")
    if name and agent_id:
        return f"{name}（{agent_id}）"
    return str(name or agent_id or "")


def is_failed(summary: dict) -> bool:
    return summary.get("status") == "failed"


def flags_of(summary: dict) -> list[dict]:
    """The call's flags as dicts (a bare code string is accepted too)."""
    flags = []
    for flag in summary.get("flags") or []:
        if isinstance(flag, str):
            flags.append({"code": flag})
        elif isinstance(flag, dict) and flag.get("code"):
            flags.append(flag)
    return flags


def flag_codes(summary: dict) -> list[str]:
    return [str(flag["code"]) for flag in flags_of(summary)]


def risk_of(summary: dict) -> str:
    """The row's risk key: a risk level, 'failed', or '' when unknown."""
    if is_failed(summary):
        return "failed"
    risk = summary.get("risk_level")
    return risk if risk in RISK_LEVELS else ""


def risk_name(risk: str) -> str:
    return "失败" if risk == "failed" else RISK_NAMES_ZH.get(risk, "未知")


def conduct_of(summary: dict) -> str:
    """The row's conduct key: none/medium/high (a v1 summary's from its flags), or '' when unknown (failed)."""
    if is_failed(summary):
        return ""
    level = conduct_level_of(summary)
    return level if level in CONDUCT_LEVELS else ""


def conduct_name(conduct: str) -> str:
    return CONDUCT_NAMES_ZH.get(conduct, "—")


def needs_callback(summary: dict) -> bool:
    return not is_failed(summary) and (
        summary.get("call_outcome") in _CALLBACK_OUTCOMES
        or "CONTACT_FAILED" in flag_codes(summary)
        or "schedule_callback" in (summary.get("actions") or [])
    )


def fact_value_zh(fact: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    return VALUE_NAMES_ZH.get(fact, {}).get(str(value), str(value))


def audio_warning(summary: dict) -> str:
    """The masked ``analysis.audio_warning`` of a damaged or cut-short recording, or ''."""
    return text(_dict(summary.get("analysis")).get("audio_warning") or None)


def audio_src(summary: dict, path: Path, batch_dir: Path | None) -> str | None:
    """The recording's URL relative to the report (forward slashes, URL-quoted), or None."""
    audio_path = summary.get("audio_path")
    if not audio_path:
        return None
    target = Path(batch_dir) / str(audio_path) if batch_dir is not None else Path(str(audio_path))
    if batch_dir is not None or target.is_absolute():
        rel = os.path.relpath(target, Path(path).parent)
    else:
        rel = str(target)
    return quote(rel.replace(os.sep, "/"))


# --- transcript and evidence ----------------------------------------------------------------


def _term_fits(line: str, term: dict) -> bool:
    """Offsets inside ``line`` and, when the term carries its matched ``text``, pointing at it."""
    start, end = term.get("start"), term.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(line)):
        return False
    return term.get("text") is None or line[start:end] == term["text"]


def _valid_terms(line: str, terms: Any) -> list[dict]:
    """Terms that fit ``line``, sorted, without overlaps (the earlier, longer one wins)."""
    fitting = [t for t in terms or [] if isinstance(t, dict) and _term_fits(line, t)]
    spans: list[dict] = []
    for term in sorted(fitting, key=lambda t: (t["start"], -t["end"])):
        if not spans or term["start"] >= spans[-1]["end"]:
            spans.append(term)
    return spans


def _mark(term: dict) -> dict:
    """A highlighted term; a negated match ("没有买股票") is shown struck through, not as a finding."""
    negated = bool(term.get("negated"))
    return {"negated": negated, "rule_id": text(term.get("rule_id")),
            "label": text(term.get("label")) + ("（否定）" if negated else "")}


def highlight_pieces(line: Any, terms: Any) -> list[dict]:
    """Masked pieces of ``line``, each {"text", "mark"}: mark is None or the matched lexicon term.

    Offsets refer to the unmasked text, so the text is cut first and each piece is
    masked on its own. If cutting would split a personal number (the pieces then
    mask differently from the whole), the highlighting is dropped.
    """
    line = "" if line is None else str(line)
    pieces: list[tuple[str, dict | None]] = []
    cursor = 0
    for term in _valid_terms(line, terms):
        pieces.append((line[cursor : term["start"]], None))
        pieces.append((line[term["start"] : term["end"]], term))
        cursor = term["end"]
    pieces.append((line[cursor:], None))
    if "".join(text(piece) for piece, _ in pieces) != text(line):
        return [{"text": text(line), "mark": None}]
    return [{"text": text(piece), "mark": None if term is None else _mark(term)} for piece, term in pieces if piece]


def _speaker(value: Any) -> dict:
    key = value if value in SPEAKERS else "unknown"
    return {"key": key, "name": SPEAKER_NAMES_ZH[key]}


def evidence(items: Any) -> list[dict]:
    """Quotes with a clickable time and the speaker, as the facts and flags cite them."""
    return [
        {
            "speaker": _speaker(item.get("speaker")),
            "title": f"规则 {text(item.get('rule_id'))}" if item.get("rule_id") else "",
            "seek": seek(item.get("start")),
            "text": text(item.get("text")),
        }
        for item in items or []
        if isinstance(item, dict)
    ]


def _utterance(item: dict) -> dict:
    line = item.get("text") or ""
    raw = item.get("raw_text")
    notes = []
    if raw and raw != line:
        notes.append(f"识别原文：{text(raw)}")
    if item.get("confidence") is not None and _percent(item.get("confidence")):
        notes.append(f"识别置信度：{_percent(item.get('confidence'))}")
    if item.get("channel") and item.get("channel") != "mono":
        notes.append(f"声道：{item.get('channel')}")
    start, end = _as_float(item.get("start")), _as_float(item.get("end"))
    return {
        "speaker": _speaker(item.get("speaker")),
        "low": (_as_float(item.get("confidence")) or 1.0) < 0.5,
        "start": None if start is None or end is None else str(start),
        "end": None if start is None or end is None else str(end),
        "title": "；".join(notes),
        "seek": seek(item.get("start")),
        "pieces": highlight_pieces(line, item.get("terms")),
        "corrected": bool(raw and raw != line),
    }


# --- per-call section -----------------------------------------------------------------------


def chip(code: Any, severity: Any = None) -> dict:
    code = str(code)
    return {"code": code, "name": FLAG_NAMES_ZH.get(code, code), "severity": severity if severity in ("medium", "high") else ""}


def _header(summary: dict) -> list[tuple[str, str]]:
    meta = [
        ("贷款", ident(summary.get("loan_id"))),
        ("借款人", text(field(summary, "borrower_name"))),
        ("通话时间", text(time_display(called_at(summary)))),
        ("接通情况", OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", "")),
        ("时长", _duration_zh(summary.get("duration_s"))),
        ("坐席", text(agent(summary))),
        ("录音问题", audio_warning(summary)),
    ]
    return [(name, value) for name, value in meta if value]


def _manifest(summary: dict) -> list[tuple[str, str]]:
    rows = []
    for key, value in _dict(summary.get("manifest")).items():
        if key in _MANIFEST_HIDDEN or value in (None, ""):
            continue
        shown = text(value)
        if key == "loan_amount" and _as_float(value) is not None:
            shown = f"{_as_float(value):,.2f}".rstrip("0").rstrip(".") + " 元"
        rows.append((text(_MANIFEST_NAMES_ZH.get(key, str(key))), shown))
    return rows


def _facts(summary: dict) -> list[dict]:
    facts = _dict(summary.get("facts"))
    rows = []
    for fact in FACTS:
        data = _dict(facts.get(fact))
        value = data.get("value")
        rows.append({
            "name": FACT_NAMES_ZH[fact],
            "value": fact_value_zh(fact, value),
            "mismatch": fact == "fund_use" and data.get("matches_contract") is False,
            "hit": value not in _UNREMARKABLE,
            "confidence": _percent(data.get("confidence")),
            "evidence": evidence(data.get("evidence")),
        })
    return rows


def _flag_items(summary: dict) -> list[dict]:
    return [
        {
            "chip": chip(flag["code"], flag.get("severity")),
            "severity_name": RISK_NAMES_ZH.get(flag.get("severity"), "") if flag.get("severity") in ("medium", "high") else "",
            "reason": text(flag.get("reason")),
            "evidence": evidence(flag.get("evidence")),
        }
        for flag in flags_of(summary)
    ]


def _topics(topics: Any) -> str:
    return "、".join(FACT_NAMES_ZH.get(str(t), str(t)) for t in topics or [])


def _compliance(summary: dict) -> dict | None:
    comp = _dict(summary.get("agent_compliance"))
    if not comp:
        return None
    prohibited = comp.get("prohibited_language") or []
    return {
        "recording_disclosed": comp.get("recording_disclosed"),
        "identity_verified": comp.get("identity_verified"),
        "topics_covered": _topics(comp.get("topics_covered")),
        "topics_missing": _topics(comp.get("topics_missing")),
        "prohibited": bool(prohibited),
        "prohibited_plain": [text(i) for i in prohibited if not isinstance(i, dict)],
        "prohibited_quotes": evidence(prohibited),
    }


def _history(summary: dict) -> list[dict]:
    history = [h for h in summary.get("history") or [] if isinstance(h, dict)]
    rows = []
    for call in sorted(history, key=lambda h: str(h.get("called_at") or ""), reverse=True):
        risk = call.get("risk_level") if call.get("risk_level") in RISK_LEVELS else ""
        conduct = call.get("conduct_level") if call.get("conduct_level") in CONDUCT_LEVELS else ""  # empty for a v1 entry
        rows.append({
            "time": text(time_display(str(call.get("called_at") or ""))),
            "call_id": ident(call.get("call_id")),
            "risk": risk, "risk_name": risk_name(risk),
            "conduct": conduct, "conduct_name": conduct_name(conduct),
            "chips": [chip(c) for c in call.get("flags") or []],
            "summary": text(call.get("summary_zh")),
        })
    return rows


def _has_findings(summary: dict) -> bool:
    """Whether the facts are worth a table: not for failed calls, nor unanswered ones that say nothing."""
    facts = _dict(summary.get("facts"))
    said = any(isinstance(f, dict) and f.get("value") not in (None, "not_mentioned") for f in facts.values())
    if is_failed(summary):
        return said
    return said or summary.get("call_outcome") not in _CALLBACK_OUTCOMES


def call_view(summary: dict, audio: str | None = None) -> dict:
    """One call: what a reviewer needs to decide on it; ``audio`` is the recording's URL (see audio_src)."""
    failed = is_failed(summary)
    summary_zh = summary.get("summary_zh")
    if failed and str(summary.get("error") or "") in str(summary_zh):
        summary_zh = None
    findings = _has_findings(summary)
    risk, conduct = risk_of(summary), conduct_of(summary)
    transcript = summary.get("transcript")
    return {
        "call_id": ident(summary.get("call_id") or ""),
        "risk": risk, "risk_name": risk_name(risk),
        "conduct": conduct, "conduct_name": conduct_name(conduct),
        "audio_warning": audio_warning(summary),
        "meta": _header(summary),
        "manifest": _manifest(summary),
        "error": text(summary.get("error") or "未知错误") if failed else None,
        "summary_zh": text(summary_zh) if summary_zh else "",
        "facts": _facts(summary) if findings else None,
        "show_flags": findings or not failed,
        "flags": _flag_items(summary),
        "actions": [text(ACTION_NAMES_ZH.get(a, a)) for a in summary.get("actions") or [] if a],
        "compliance": _compliance(summary) if findings else None,
        "history": _history(summary),
        "audio": audio,
        "transcript": [_utterance(u) for u in transcript if isinstance(u, dict)] if transcript else None,
    }
