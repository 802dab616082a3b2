"""The compliance reviewers' report: one self-contained HTML page and an Excel list per batch.

Reviewers open the report on an internal network without internet, so the page
carries its own CSS and a little vanilla JS (filter, sort, seek in the audio)
and references nothing outside the batch. Everything shown comes from call
summaries (see shared/CONTRACT.md) and is passed through ``mask_pii`` and
``html.escape`` before it reaches the page or the workbook. Identifiers
(call id, loan id) are shown as they are: reviewers need them to find the loan.
"""
from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .labels import (
    ACTION_NAMES_ZH,
    FACT_NAMES_ZH,
    FACTS,
    FLAG_CODES,
    FLAG_NAMES_ZH,
    OUTCOME_NAMES_ZH,
    RISK_LEVELS,
    RISK_NAMES_ZH,
    SPEAKER_NAMES_ZH,
    SPEAKERS,
    VALUE_NAMES_ZH,
)
from .outputs import atomic_write
from .privacy import mask_pii

__all__ = ["render_report", "write_reviewers_xlsx", "urgency_key"]

# Most urgent first; failed calls come after the analysed ones (their risk is unknown).
_RISK_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
_UNKNOWN_RANK = 3.5
_FAILED_RANK = 4
_CALLBACK_OUTCOMES = ("not_connected", "wrong_party")
_STATUS_NAMES_ZH = {"analyzed": "已分析", "failed": "处理失败"}
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
_RUN_INFO_NAMES_ZH = {
    "batch": "批次",
    "generated_at": "生成时间",
    "pipeline_version": "程序版本",
    "model": "识别模型",
    "n_calls": "通话数",
    "n_failed": "失败数",
}


# --- small helpers -------------------------------------------------------------------------


def _text(value: Any) -> str:
    """Masked plain text of any value (None -> ""), for the workbook and before escaping."""
    if value is None:
        return ""
    return mask_pii(str(value))


def _esc(value: Any) -> str:
    """Masked, HTML-escaped text: the only way free text reaches the page."""
    return html.escape(_text(value))


def _attr(value: Any) -> str:
    """An identifier for an attribute value (escaped, not masked, so filters match ids)."""
    return html.escape("" if value is None else str(value))


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


def _seek_link(start: Any) -> str:
    """A clickable time that jumps the call's player to ``start`` (plain text if no time)."""
    t = _as_float(start)
    if t is None or t < 0:
        return '<span class="t">--:--</span>'
    data_t = f"{t:.2f}".rstrip("0").rstrip(".") or "0"
    return f'<a class="seek" href="#" data-t="{data_t}" title="跳转播放">{_clock(t)}</a>'


def _duration_zh(seconds: Any) -> str:
    t = _as_float(seconds)
    if t is None:
        return ""
    minutes, secs = divmod(int(round(t)), 60)
    return f"{minutes}分{secs:02d}秒" if minutes else f"{secs}秒"


def _percent(value: Any) -> str:
    number = _as_float(value)
    return "" if number is None else f"{number * 100:.0f}%"


def _manifest(summary: dict) -> dict:
    manifest = summary.get("manifest")
    return manifest if isinstance(manifest, dict) else {}


def _field(summary: dict, key: str) -> Any:
    """A manifest field, falling back to the summary's own key (flattened rows carry it there)."""
    value = _manifest(summary).get(key)
    return value if value not in (None, "") else summary.get(key)


def _called_at(summary: dict) -> str:
    return "" if _field(summary, "called_at") is None else str(_field(summary, "called_at"))


def _time_display(iso: str) -> str:
    """'2026-03-01 19:02' from an ISO time; the raw text when it is not ISO or has no time."""
    if len(iso) <= 10:
        return iso
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _agent(summary: dict) -> str:
    name, agent_id = _field(summary, "agent_name"), _field(summary, "agent_id")
    if name and agent_id:
        return f"{name}（{agent_id}）"
    return str(name or agent_id or "")


def _is_failed(summary: dict) -> bool:
    return summary.get("status") == "failed"


def _flags(summary: dict) -> list[dict]:
    """The call's flags as dicts (a bare code string is accepted too)."""
    flags = []
    for flag in summary.get("flags") or []:
        if isinstance(flag, str):
            flags.append({"code": flag})
        elif isinstance(flag, dict) and flag.get("code"):
            flags.append(flag)
    return flags


def _flag_codes(summary: dict) -> list[str]:
    return [str(flag["code"]) for flag in _flags(summary)]


def _risk(summary: dict) -> str:
    """The row's risk key: a risk level, 'failed', or '' when unknown."""
    if _is_failed(summary):
        return "failed"
    risk = summary.get("risk_level")
    return risk if risk in RISK_LEVELS else ""


def _risk_name(risk: str) -> str:
    return "失败" if risk == "failed" else RISK_NAMES_ZH.get(risk, "未知")


def _needs_callback(summary: dict) -> bool:
    return not _is_failed(summary) and (
        summary.get("call_outcome") in _CALLBACK_OUTCOMES
        or "CONTACT_FAILED" in _flag_codes(summary)
        or "schedule_callback" in (summary.get("actions") or [])
    )


def _fact_value_zh(fact: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    return VALUE_NAMES_ZH.get(fact, {}).get(str(value), str(value))


def urgency_key(summary: dict) -> tuple:
    """Sort key, most urgent first: critical > high > medium > low, then failed, then more flags."""
    if _is_failed(summary):
        rank: float = _FAILED_RANK
    else:
        rank = _RISK_RANK.get(summary.get("risk_level") or "", _UNKNOWN_RANK)
    return (rank, -len(_flags(summary)), _called_at(summary), str(summary.get("call_id") or ""))


def _sorted(summaries: Iterable[dict]) -> list[dict]:
    return sorted((s for s in summaries if isinstance(s, dict)), key=urgency_key)


# --- transcript and evidence ----------------------------------------------------------------


def _term_fits(text: str, term: dict) -> bool:
    """Offsets inside ``text`` and, when the term carries its matched ``text``, pointing at it."""
    start, end = term.get("start"), term.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return False
    return term.get("text") is None or text[start:end] == term["text"]


def _valid_terms(text: str, terms: Any) -> list[dict]:
    """Terms that fit ``text``, sorted, without overlaps (the earlier, longer one wins)."""
    fitting = [t for t in terms or [] if isinstance(t, dict) and _term_fits(text, t)]
    spans: list[dict] = []
    for term in sorted(fitting, key=lambda t: (t["start"], -t["end"])):
        if not spans or term["start"] >= spans[-1]["end"]:
            spans.append(term)
    return spans


def _mark(piece: str, term: dict) -> str:
    """A highlighted term; a negated match ("没有买股票") is shown struck through, not as a finding."""
    negated = bool(term.get("negated"))
    cls = ' class="neg"' if negated else ""
    label = _esc(term.get("label")) + ("（否定）" if negated else "")
    return f'<mark{cls} title="{_esc(term.get("rule_id"))}" data-label="{label}">{_esc(piece)}</mark>'


def highlight_terms(text: Any, terms: Any) -> str:
    """Escaped, masked ``text`` with matched lexicon terms wrapped in ``<mark title=rule_id>``.

    Offsets refer to the unmasked text, so the text is cut first and each piece is
    masked and escaped on its own. If cutting would split a personal number (the
    pieces then mask differently from the whole), the highlighting is dropped.
    """
    text = "" if text is None else str(text)
    spans = _valid_terms(text, terms)
    pieces: list[tuple[str, dict | None]] = []
    cursor = 0
    for term in spans:
        pieces.append((text[cursor : term["start"]], None))
        pieces.append((text[term["start"] : term["end"]], term))
        cursor = term["end"]
    pieces.append((text[cursor:], None))
    if "".join(_text(piece) for piece, _ in pieces) != _text(text):
        return _esc(text)
    return "".join(_esc(piece) if term is None else _mark(piece, term) for piece, term in pieces)


def _speaker(value: Any) -> str:
    return value if value in SPEAKERS else "unknown"


def _evidence_html(evidence: Any) -> str:
    """Quotes with a clickable time and the speaker, as the facts and flags cite them."""
    items = [e for e in evidence or [] if isinstance(e, dict)]
    if not items:
        return ""
    quotes = []
    for item in items:
        speaker = _speaker(item.get("speaker"))
        title = f' title="规则 {_esc(item.get("rule_id"))}"' if item.get("rule_id") else ""
        quotes.append(
            f'<li class="ev spk-{speaker}"{title}>{_seek_link(item.get("start"))} '
            f'<span class="who">{SPEAKER_NAMES_ZH[speaker]}</span> '
            f'<q>{_esc(item.get("text"))}</q></li>'
        )
    return f'<ul class="evidence">{"".join(quotes)}</ul>'


def _utterance_html(item: dict) -> str:
    speaker = _speaker(item.get("speaker"))
    text = item.get("text") or ""
    notes = []
    raw = item.get("raw_text")
    if raw and raw != text:
        notes.append(f"识别原文：{_text(raw)}")
    if item.get("confidence") is not None and _percent(item.get("confidence")):
        notes.append(f"识别置信度：{_percent(item.get('confidence'))}")
    if item.get("channel") and item.get("channel") != "mono":
        notes.append(f"声道：{item.get('channel')}")
    title = f' title="{html.escape("；".join(notes))}"' if notes else ""
    low = " lowconf" if (_as_float(item.get("confidence")) or 1.0) < 0.5 else ""
    corrected = ' <span class="corr" title="已按领域词典纠正">✎</span>' if raw and raw != text else ""
    start, end = _as_float(item.get("start")), _as_float(item.get("end"))
    times = f' data-start="{start}" data-end="{end}"' if start is not None and end is not None else ""
    return (
        f'<li class="utt spk-{speaker}{low}"{times}{title}>{_seek_link(item.get("start"))}'
        f'<span class="who">{SPEAKER_NAMES_ZH[speaker]}</span>'
        f'<span class="txt">{highlight_terms(text, item.get("terms"))}{corrected}</span></li>'
    )


def _transcript_html(summary: dict) -> str:
    items = [u for u in summary.get("transcript") or [] if isinstance(u, dict)]
    if not items:
        return '<p class="muted">无转写文本。</p>'
    lines = "".join(_utterance_html(item) for item in items)
    legend = "".join(f'<span class="legend spk-{s}">{SPEAKER_NAMES_ZH[s]}</span>' for s in SPEAKERS)
    return f'<div class="legend-row">{legend}<span class="legend plain"><mark>词典命中</mark> <mark class="neg">否定表述</mark></span></div><ol class="transcript">{lines}</ol>'


# --- per-call section -----------------------------------------------------------------------


def _badge(risk: str) -> str:
    return f'<span class="badge risk-{html.escape(risk or "unknown")}">{_risk_name(risk)}</span>'


def _flag_chip(code: str, severity: str | None = None) -> str:
    sev = f" sev-{html.escape(severity)}" if severity in ("medium", "high") else ""
    return f'<span class="chip{sev}" title="{_attr(code)}">{html.escape(FLAG_NAMES_ZH.get(code, code))}</span>'


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


def _audio_warning_badge(summary: dict) -> str:
    """A visible mark on a call whose recording is damaged or cut short (``analysis.audio_warning``)."""
    warning = (summary.get("analysis") or {}).get("audio_warning") if isinstance(summary.get("analysis"), dict) else None
    if not warning:
        return ""
    return f'<span class="badge audio-warning" title="{_esc(warning)}">录音不完整</span>'


def _call_header(summary: dict) -> str:
    risk = _risk(summary)
    call_id = summary.get("call_id") or ""
    facts = [
        ("贷款", _attr(summary.get("loan_id"))),
        ("借款人", _esc(_field(summary, "borrower_name"))),
        ("通话时间", _esc(_time_display(_called_at(summary)))),
        ("接通情况", html.escape(OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", ""))),
        ("时长", _duration_zh(summary.get("duration_s"))),
        ("坐席", _esc(_agent(summary))),
    ]
    meta = "".join(f"<span><b>{k}</b> {v}</span>" for k, v in facts if v)
    warning = (summary.get("analysis") or {}).get("audio_warning") if isinstance(summary.get("analysis"), dict) else None
    if warning:
        meta += f'<span class="audio-warning-text"><b>录音问题</b> {_esc(warning)}</span>'
    return (
        f'<header class="call-head"><div class="call-title"><h2>{_badge(risk)}{_audio_warning_badge(summary)} 通话 {_attr(call_id)}</h2>'
        f'<div class="call-tools no-print"><button type="button" class="print-one">打印本通话</button>'
        f'<a href="#calls-list">返回列表 ↑</a></div></div><div class="call-meta">{meta}</div></header>'
    )


def _manifest_html(summary: dict) -> str:
    manifest = _manifest(summary)
    rows = []
    for key, value in manifest.items():
        if key in _MANIFEST_HIDDEN or value in (None, ""):
            continue
        shown = _text(value)
        if key == "loan_amount" and _as_float(value) is not None:
            shown = f"{_as_float(value):,.2f}".rstrip("0").rstrip(".") + " 元"
        name = _MANIFEST_NAMES_ZH.get(key, str(key))
        rows.append(f"<dt>{_esc(name)}</dt><dd>{html.escape(shown)}</dd>")
    return f'<dl class="manifest">{"".join(rows)}</dl>' if rows else ""


def _facts_html(summary: dict) -> str:
    facts = summary.get("facts") if isinstance(summary.get("facts"), dict) else {}
    rows = []
    for fact in FACTS:
        data = facts.get(fact) if isinstance(facts.get(fact), dict) else {}
        value = data.get("value")
        note = ""
        if fact == "fund_use" and data.get("matches_contract") is False:
            note = ' <span class="tag-warn">与合同约定用途不符</span>'
        cls = "" if value in _UNREMARKABLE else ' class="hit"'
        rows.append(
            f"<tr{cls}><th>{FACT_NAMES_ZH[fact]}</th><td>{html.escape(_fact_value_zh(fact, value))}{note}</td>"
            f'<td class="num">{_percent(data.get("confidence"))}</td><td>{_evidence_html(data.get("evidence")) or "—"}</td></tr>'
        )
    return (
        '<h3>五项核查</h3><table class="facts"><thead><tr><th>事项</th><th>结论</th><th>置信度</th>'
        f'<th>依据（点击时间播放）</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _flags_html(summary: dict) -> str:
    flags = _flags(summary)
    if not flags:
        return '<h3>风险标记</h3><p class="muted">无风险标记。</p>'
    items = []
    for flag in flags:
        severity = flag.get("severity")
        sev_name = RISK_NAMES_ZH.get(severity, "") if severity in ("medium", "high") else ""
        items.append(
            f'<li>{_flag_chip(str(flag["code"]), severity)} <span class="muted">{_attr(flag["code"])}</span>'
            f'{f" · 严重程度：{sev_name}" if sev_name else ""}'
            f'<div class="reason">{_esc(flag.get("reason"))}</div>{_evidence_html(flag.get("evidence"))}</li>'
        )
    return f'<h3>风险标记</h3><ul class="flags">{"".join(items)}</ul>'


def _actions_html(summary: dict) -> str:
    actions = [a for a in summary.get("actions") or [] if a]
    if not actions:
        return '<h3>建议措施</h3><p class="muted">无需额外措施。</p>'
    items = "".join(f"<li>{_esc(ACTION_NAMES_ZH.get(a, a))}</li>" for a in actions)
    return f'<h3>建议措施</h3><ol class="actions">{items}</ol>'


def _yes_no(value: Any) -> str:
    if value is True:
        return '<span class="ok">是</span>'
    if value is False:
        return '<span class="warn">否</span>'
    return '<span class="muted">未知</span>'


def _topics(topics: Any) -> str:
    names = [FACT_NAMES_ZH.get(str(t), str(t)) for t in topics or []]
    return html.escape("、".join(names)) if names else "—"


def _prohibited_html(items: Any) -> str:
    if not items:
        return '<span class="ok">无</span>'
    quoted = [i for i in items if isinstance(i, dict)]
    plain = [f'<span class="warn">{_esc(i)}</span>' for i in items if not isinstance(i, dict)]
    return "、".join(plain) + _evidence_html(quoted)


def _compliance_html(summary: dict) -> str:
    comp = summary.get("agent_compliance") if isinstance(summary.get("agent_compliance"), dict) else {}
    if not comp:
        return ""
    rows = [
        ("已告知录音", _yes_no(comp.get("recording_disclosed"))),
        ("已核实身份", _yes_no(comp.get("identity_verified"))),
        ("已覆盖事项", _topics(comp.get("topics_covered"))),
        ("未覆盖事项", _topics(comp.get("topics_missing"))),
        ("违规用语", _prohibited_html(comp.get("prohibited_language"))),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<h3>坐席合规</h3><table class="kv">{body}</table>'


def _history_html(summary: dict) -> str:
    history = [h for h in summary.get("history") or [] if isinstance(h, dict)]
    if not history:
        return ""
    rows = []
    for call in sorted(history, key=lambda h: str(h.get("called_at") or ""), reverse=True):
        risk = call.get("risk_level") if call.get("risk_level") in RISK_LEVELS else ""
        flags = " ".join(_flag_chip(str(c)) for c in call.get("flags") or [])
        rows.append(
            f"<tr><td>{_esc(_time_display(str(call.get('called_at') or '')))}</td><td>{_attr(call.get('call_id'))}</td>"
            f"<td>{_badge(risk)}</td><td>{flags or '—'}</td><td>{_esc(call.get('summary_zh'))}</td></tr>"
        )
    return (
        '<h3>该笔贷款的历次回访</h3><table class="history"><thead><tr><th>时间</th><th>通话</th><th>风险</th>'
        f'<th>标记</th><th>摘要</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _audio_html(summary: dict, path: Path, batch_dir: Path | None) -> str:
    src = audio_src(summary, path, batch_dir)
    if not src:
        return ""
    return f'<div class="player no-print"><audio controls preload="none" src="{html.escape(src)}"></audio></div>'


def _has_findings(summary: dict) -> bool:
    """Whether the facts are worth a table: not for failed calls, nor unanswered ones that say nothing."""
    facts = summary.get("facts") if isinstance(summary.get("facts"), dict) else {}
    said = any(isinstance(f, dict) and f.get("value") not in (None, "not_mentioned") for f in facts.values())
    if _is_failed(summary):
        return said
    return said or summary.get("call_outcome") not in _CALLBACK_OUTCOMES


def _call_section(summary: dict, path: Path, batch_dir: Path | None) -> str:
    """One call: what a reviewer needs to decide on it, with the recording beside the text."""
    call_id = str(summary.get("call_id") or "")
    parts = [_call_header(summary), _manifest_html(summary)]
    if _is_failed(summary):
        parts.append(f'<div class="error"><b>处理失败：</b>{_esc(summary.get("error") or "未知错误")}</div>')
    summary_zh = summary.get("summary_zh")
    if summary_zh and not (_is_failed(summary) and str(summary.get("error") or "") in str(summary_zh)):
        parts.append(f'<p class="summary">{_esc(summary_zh)}</p>')
    if _has_findings(summary):
        parts += [_facts_html(summary), _flags_html(summary), _actions_html(summary), _compliance_html(summary)]
    elif not _is_failed(summary):
        parts += [_flags_html(summary), _actions_html(summary)]
    parts.append(_history_html(summary))
    parts.append(_audio_html(summary, path, batch_dir))
    if summary.get("transcript"):
        parts.append(f"<h3>通话转写</h3>{_transcript_html(summary)}")
    return f'<section class="call" id="call-{_attr(call_id)}" data-call-id="{_attr(call_id)}">{"".join(parts)}</section>'


# --- overview and table ---------------------------------------------------------------------


def _bars(rows: list[tuple[str, str, int, str]], total: int) -> str:
    """CSS bar chart; rows are (label html, css class, count, filter attributes)."""
    top = max([total] + [count for *_, count, _ in rows]) or 1
    out = []
    for label, cls, count, filt in rows:
        width = 100 * count / top
        out.append(
            f'<div class="bar-row"><button type="button" class="bar-label"{filt}>{label}</button>'
            f'<div class="bar-track"><div class="bar {cls}" style="width:{width:.1f}%"></div></div>'
            f'<span class="bar-num">{count}</span></div>'
        )
    return "".join(out)


def _manifest_errors_list(errors: Any) -> str:
    """Manifest rows that could not run at all: they have no call section, so list them here."""
    errors = [e for e in errors or [] if e] if isinstance(errors, list) else []
    if not errors:
        return ""
    items = "".join(f'<li class="warn">{_esc(e)}</li>' for e in errors)
    return f'<div class="list"><h3>清单（manifest.csv）错误（{len(errors)}）</h3><ul>{items}</ul></div>'


def _overview_html(summaries: list[dict], run_info: dict | None = None) -> str:
    total = len(summaries)
    failed = [s for s in summaries if _is_failed(s)]
    callbacks = [s for s in summaries if _needs_callback(s)]
    risks = Counter(_risk(s) for s in summaries)
    flag_counts = Counter(code for s in summaries for code in set(_flag_codes(s)))
    flagged = sum(1 for s in summaries if _flags(s))
    cards = [
        ("通话总数", total, ""),
        ("严重 / 高风险", risks["critical"] + risks["high"], "risk-high"),
        ("有风险标记", flagged, "risk-medium"),
        ("需回拨", len(callbacks), ""),
        ("处理失败", len(failed), "risk-failed" if failed else ""),
    ]
    cards_html = "".join(f'<div class="card {c}"><div class="n">{n}</div><div>{k}</div></div>' for k, n, c in cards)
    risk_rows = [
        (_risk_name(r), f"risk-{r}", risks[r], f' data-set-filter="risk" data-value="{r}"')
        for r in ("critical", "high", "medium", "low", "failed")
        if r != "failed" or risks[r]
    ]
    flag_rows = [
        (html.escape(FLAG_NAMES_ZH.get(c, c)), "flagbar", flag_counts[c], f' data-set-filter="flags" data-value="{_attr(c)}"')
        for c in [*FLAG_CODES, *sorted(set(flag_counts) - set(FLAG_CODES))]
        if flag_counts[c]
    ]
    flags_chart = _bars(flag_rows, total) if flag_rows else '<p class="muted">本批次无风险标记。</p>'
    return (
        f'<section id="overview" class="overview"><h2>本批次概览</h2><div class="cards">{cards_html}</div>'
        f'<div class="charts"><div class="chart"><h3>风险等级分布</h3>{_bars(risk_rows, total)}</div>'
        f'<div class="chart"><h3>风险标记分布</h3>{flags_chart}</div></div>'
        f'<div class="lists">{_callback_list(callbacks)}{_failed_list(failed)}'
        f'{_manifest_errors_list((run_info or {}).get("manifest_errors"))}</div></section>'
    )


def _call_link(summary: dict) -> str:
    call_id = _attr(summary.get("call_id"))
    return f'<a href="#call-{call_id}">{call_id}</a>'


def _callback_list(callbacks: list[dict]) -> str:
    if not callbacks:
        return '<div class="list"><h3>需回拨的通话</h3><p class="muted">无。</p></div>'
    items = "".join(f"<li>{' · '.join(p for p in _callback_parts(s) if p)}</li>" for s in callbacks)
    return f'<div class="list"><h3>需回拨的通话（{len(callbacks)}）</h3><ul>{items}</ul></div>'


def _callback_parts(summary: dict) -> list[str]:
    outcome = OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", "联系失败")
    return [
        _call_link(summary),
        _attr(summary.get("loan_id")),
        _esc(_field(summary, "borrower_name")),
        _esc(_time_display(_called_at(summary))),
        html.escape(outcome),
    ]


def _failed_list(failed: list[dict]) -> str:
    if not failed:
        return ""
    items = "".join(f'<li>{_call_link(s)}：<span class="warn">{_esc(s.get("error") or "未知错误")}</span></li>' for s in failed)
    return f'<div class="list"><h3>处理失败的通话（{len(failed)}）</h3><ul>{items}</ul></div>'


def _select(key: str, label: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{_attr(v)}">{html.escape(t)}</option>' for v, t in options)
    return f'<label>{label} <select data-filter="{key}"><option value="">全部</option>{opts}</select></label>'


def _filters_html(summaries: list[dict]) -> str:
    risks = {_risk(s) for s in summaries}
    flags = {c for s in summaries for c in _flag_codes(s)}
    outcomes = {s.get("call_outcome") for s in summaries if s.get("call_outcome")}
    loans = sorted({str(s.get("loan_id")) for s in summaries if s.get("loan_id")})
    agents = sorted({_agent(s) for s in summaries if _agent(s)})
    flag_order = [c for c in (*FLAG_CODES, *sorted(flags - set(FLAG_CODES))) if c in flags]
    selects = [
        _select("risk", "风险等级", [(r, _risk_name(r)) for r in (*RISK_LEVELS[::-1], "failed") if r in risks]),
        _select("flags", "风险标记", [(c, FLAG_NAMES_ZH.get(c, c)) for c in flag_order]),
        _select("loan", "贷款", [(loan, loan) for loan in loans]),
        _select("outcome", "接通情况", [(o, OUTCOME_NAMES_ZH.get(o, o)) for o in sorted(outcomes)]),
    ]
    if agents:
        selects.append(_select("agent", "坐席", [(_text(a), _text(a)) for a in agents]))
    return (
        f'<div class="filters no-print">{"".join(selects)}<button type="button" id="reset-filters">清除筛选</button>'
        f'<span class="muted">显示 <b id="shown-count">{len(summaries)}</b> / {len(summaries)} 通</span></div>'
    )


def _row_html(summary: dict) -> str:
    risk = _risk(summary)
    codes = _flag_codes(summary)
    severities = {str(f["code"]): f.get("severity") for f in _flags(summary)}
    called_at = _called_at(summary)
    actions = "<br>".join(_esc(ACTION_NAMES_ZH.get(a, a)) for a in summary.get("actions") or [] if a)
    status = summary.get("status") or "analyzed"
    status_html = html.escape(_STATUS_NAMES_ZH.get(status, status))
    if _is_failed(summary):
        status_html = f'<span class="warn" title="{_esc(summary.get("error"))}">{status_html}</span>'
    attrs = {
        "data-call-id": summary.get("call_id"),
        "data-flags": " ".join(codes),
        "data-risk": risk,
        "data-outcome": summary.get("call_outcome") or "",
        "data-loan": summary.get("loan_id") or "",
        "data-agent": _text(_agent(summary)),
        "data-status": status,
    }
    attr_html = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs.items())
    rank = _FAILED_RANK if risk == "failed" else _RISK_RANK.get(risk, _UNKNOWN_RANK)
    cells = [
        (str(summary.get("call_id") or ""), _call_link(summary)),
        (str(summary.get("loan_id") or ""), _attr(summary.get("loan_id"))),
        (_text(_field(summary, "borrower_name")), _esc(_field(summary, "borrower_name"))),
        (called_at, _esc(_time_display(called_at))),
        (summary.get("call_outcome") or "", html.escape(OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", "—"))),
        (str(rank), _badge(risk) + _audio_warning_badge(summary)),
        (str(len(codes)), " ".join(_flag_chip(c, severities.get(c)) for c in codes) or "—"),
        ("", actions or "—"),
        (status, status_html),
    ]
    tds = "".join(f'<td data-sort="{_attr(key)}">{cell}</td>' for key, cell in cells)
    return f"<tr {attr_html}>{tds}</tr>"


def _table_html(summaries: list[dict]) -> str:
    heads = ["通话编号", "贷款编号", "借款人", "通话时间", "接通情况", "风险等级", "风险标记", "建议措施", "状态"]
    ths = "".join(f'<th data-col="{i}" title="点击排序">{h}</th>' for i, h in enumerate(heads))
    rows = "".join(_row_html(s) for s in summaries)
    return (
        f'<section id="calls-list" class="calls-list"><h2>通话列表（按紧急程度排序）</h2>{_filters_html(summaries)}'
        f'<div class="table-wrap"><table id="calls-table" class="calls"><thead><tr>{ths}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _run_info_html(run_info: dict | None, summaries: list[dict]) -> str:
    info = dict(run_info or {})
    info.setdefault("n_calls", len(summaries))
    info.setdefault("n_failed", sum(1 for s in summaries if _is_failed(s)))
    parts = []
    for key, value in info.items():
        if value in (None, "") or isinstance(value, (dict, list)):
            continue
        name = _RUN_INFO_NAMES_ZH.get(key, str(key))
        shown = _time_display(str(value)) if key == "generated_at" else value
        parts.append(f"<span><b>{_esc(name)}</b> {_esc(shown)}</span>")
    return "".join(parts)


# --- page -----------------------------------------------------------------------------------

# Defence in depth: the page runs only its own inline code and loads nothing but the local
# recordings (same server, or file:// when the report is opened from a share).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; media-src 'self' file: blob:"

_CSS = """
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--crit:#7f1d1d;--high:#dc2626;--med:#d97706;--low:#15803d;--fail:#6b7280}
*{box-sizing:border-box}
body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;color:var(--fg);background:var(--bg);font-size:14px;line-height:1.6}
.page{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
header.top{background:#1e3a5f;color:#fff;padding:14px 24px}
header.top h1{margin:0;font-size:22px}
header.top .meta span,footer span{margin-right:18px}
header.top .meta{opacity:.9;font-size:13px}
nav.toc{margin:8px 0 0;font-size:13px}
nav.toc a{color:#cfe3ff;margin-right:16px}
h2{font-size:18px;margin:24px 0 10px;border-left:4px solid #1e3a5f;padding-left:8px}
h3{font-size:15px;margin:16px 0 6px}
a{color:#1d4ed8}
.tag-warn{display:inline-block;margin-left:6px;padding:0 6px;border-radius:4px;background:#fee2e2;color:#991b1b;font-size:12px}
.muted{color:var(--muted)}.warn{color:var(--high);font-weight:600}.ok{color:var(--low)}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{flex:1 1 150px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px;border-top:4px solid #94a3b8}
.card .n{font-size:26px;font-weight:700}
.card.risk-high{border-top-color:var(--high)}.card.risk-medium{border-top-color:var(--med)}.card.risk-failed{border-top-color:var(--fail)}
.charts,.lists{display:flex;gap:16px;flex-wrap:wrap;margin-top:12px}
.chart,.list{flex:1 1 360px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 14px}
.bar-row{display:flex;align-items:center;gap:8px;margin:4px 0}
.bar-label{width:96px;text-align:right;background:none;border:0;padding:0;font:inherit;color:var(--fg);cursor:pointer}
.bar-label:hover{text-decoration:underline}
.bar-track{flex:1;background:#f1f5f9;border-radius:4px;height:16px}
.bar{height:16px;border-radius:4px;min-width:2px;background:#3b82f6}
.bar.risk-critical{background:var(--crit)}.bar.risk-high{background:var(--high)}.bar.risk-medium{background:var(--med)}.bar.risk-low{background:var(--low)}.bar.risk-failed{background:var(--fail)}
.bar-num{width:36px;font-variant-numeric:tabular-nums}
.filters{display:flex;gap:12px;flex-wrap:wrap;align-items:center;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin-bottom:8px}
select,button{font:inherit}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:#f1f5f9;white-space:nowrap}
table.calls thead th{cursor:pointer;position:sticky;top:0}
table.calls th[aria-sort=ascending]::after{content:" ▲"}table.calls th[aria-sort=descending]::after{content:" ▼"}
table.calls tbody tr:hover{background:#f8fafc}
.badge{display:inline-block;min-width:2.6em;text-align:center;padding:0 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600;background:#94a3b8;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.badge.audio-warning{background:#b45309;margin-left:4px}.audio-warning-text{color:#b45309}
.badge.risk-critical{background:var(--crit)}.badge.risk-high{background:var(--high)}.badge.risk-medium{background:var(--med)}.badge.risk-low{background:var(--low)}.badge.risk-failed{background:var(--fail)}
.chip{display:inline-block;padding:0 6px;margin:1px 2px 1px 0;border-radius:4px;font-size:12px;background:#e0e7ff;color:#3730a3;white-space:nowrap}
.chip.sev-high{background:#fee2e2;color:#991b1b}.chip.sev-medium{background:#fef3c7;color:#92400e}
section.call{background:#fff;border:1px solid var(--line);border-radius:8px;padding:4px 18px 16px;margin:20px 0}
.call-head h2{border:0;padding:0;margin:14px 0 4px}
.call-meta span{margin-right:16px;white-space:nowrap}.call-meta b{color:var(--muted);font-weight:500}
.call-title{display:flex;justify-content:space-between;align-items:center;gap:12px}.call-tools{white-space:nowrap}.call-tools button{margin-right:10px}
dl.manifest{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:2px 12px;margin:8px 0;font-size:13px}
dl.manifest dt{color:var(--muted)}dl.manifest dd{margin:0}
.summary{background:#f0f9ff;border-left:4px solid #0ea5e9;padding:8px 12px;margin:10px 0}
.error{background:#fef2f2;border-left:4px solid var(--high);padding:8px 12px;margin:10px 0}
table.facts{table-layout:fixed}table.facts th:nth-child(1){width:7em}table.facts th:nth-child(2){width:19em}table.facts th:nth-child(3){width:5em}
table.facts tbody th,table.kv th{width:7em;background:#f8fafc}
table.facts tr.hit td:nth-child(2){color:var(--high);font-weight:600}
td.num{text-align:right;white-space:nowrap}
ul.evidence{list-style:none;margin:0;padding:0}
ul.evidence li{margin:2px 0}
ul.flags{padding-left:18px}ul.flags>li{margin-bottom:8px}
.reason{margin:2px 0}
.who{display:inline-block;min-width:2.5em;margin:0 6px;color:var(--muted);font-size:12px}
a.seek{font-variant-numeric:tabular-nums;text-decoration:none;border-bottom:1px dotted}
.player{position:sticky;top:0;background:#fff;padding:6px 0;z-index:1}.player audio{width:100%}
.legend-row{font-size:12px;margin-bottom:4px}.legend{display:inline-block;padding:0 8px;margin-right:6px;border-left:4px solid}.legend.plain{border:0}
ol.transcript{list-style:none;padding:0;margin:0}
.utt{padding:3px 8px;margin:2px 0;border-left:4px solid;border-radius:2px;-webkit-print-color-adjust:exact;print-color-adjust:exact;break-inside:avoid}
.spk-agent{border-color:#3b82f6;background:#eff6ff}.spk-customer{border-color:#16a34a;background:#f0fdf4}
.spk-system{border-color:#9ca3af;background:#f3f4f6;color:#4b5563}.spk-unknown{border-color:#d97706;background:#fffbeb}
ul.evidence li.ev{background:none;border-left:0}
.utt.lowconf .txt{text-decoration:underline dotted #9ca3af}
.utt.now{outline:2px solid #f59e0b}
mark{background:#fde68a;padding:0 1px;border-radius:2px}mark.neg{background:#e5e7eb;text-decoration:line-through}
.corr{color:var(--muted);font-size:11px}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);margin-top:32px;padding-top:8px}
[hidden]{display:none!important}
@page{size:A4;margin:14mm 12mm}
@media print{
 body{background:#fff;font-size:11pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 .no-print,.filters,audio,nav.toc{display:none!important}
 .page{max-width:none;padding:0}
 header.top{background:none;color:#000;padding:0;border-bottom:1px solid #000}
 section.call{break-before:page;page-break-before:always;border:0;padding:0;margin:0}
 section.call[hidden]{display:none!important}
 table.calls thead th{position:static}
 tr,li,.summary,.error{break-inside:avoid;page-break-inside:avoid}
 h2,h3{break-after:avoid;page-break-after:avoid}
 a{color:inherit;text-decoration:none}
 body.print-one .page>*:not(main),body.print-one header.top,body.print-one footer{display:none!important}
 body.print-one section.call{display:none!important}
 body.print-one section.call.print-target{display:block!important;break-before:auto;page-break-before:auto}
}
"""

_JS = r"""
(function(){
'use strict';
var table=document.getElementById('calls-table');
var selects=[].slice.call(document.querySelectorAll('select[data-filter]'));
function matches(row){
  for(var i=0;i<selects.length;i++){
    var key=selects[i].getAttribute('data-filter'),want=selects[i].value;
    if(!want)continue;
    var have=row.getAttribute('data-'+key)||'';
    if(key==='flags'){if(have.split(' ').indexOf(want)<0)return false;}
    else if(have!==want)return false;
  }
  return true;
}
function applyFilters(){
  var rows=table.tBodies[0].rows,shown=0;
  for(var i=0;i<rows.length;i++){
    var ok=matches(rows[i]);rows[i].hidden=!ok;if(ok)shown++;
    var sec=document.getElementById('call-'+rows[i].getAttribute('data-call-id'));
    if(sec)sec.hidden=!ok;
  }
  document.getElementById('shown-count').textContent=shown;
}
selects.forEach(function(s){s.addEventListener('change',applyFilters);});
document.getElementById('reset-filters').addEventListener('click',function(){selects.forEach(function(s){s.value='';});applyFilters();});
function sortBy(th){
  var col=+th.getAttribute('data-col'),asc=th.getAttribute('aria-sort')!=='ascending';
  [].forEach.call(th.parentNode.children,function(h){h.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',asc?'ascending':'descending');
  var body=table.tBodies[0],rows=[].slice.call(body.rows);
  function key(r){return r.cells[col].getAttribute('data-sort')||r.cells[col].textContent;}
  rows.sort(function(a,b){
    var x=key(a),y=key(b),nx=parseFloat(x),ny=parseFloat(y),c;
    if(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x.trim()&&String(ny)===y.trim())c=nx-ny;else c=x.localeCompare(y,'zh-CN');
    return asc?c:-c;
  });
  rows.forEach(function(r){body.appendChild(r);});
}
[].forEach.call(table.tHead.rows[0].cells,function(th){th.addEventListener('click',function(){sortBy(th);});});
function play(audio){var p=audio.play();if(p&&p.catch)p.catch(function(){});}
// One recording at a time: starting a call's player pauses the others ('play' does not bubble).
document.addEventListener('play',function(e){
  [].forEach.call(document.querySelectorAll('audio'),function(au){if(au!==e.target&&!au.paused)au.pause();});
},true);
function seek(audio,t){
  if(audio.readyState>=1){audio.currentTime=t;play(audio);return;}
  // preload="none": nothing is loaded yet; play() starts loading, the seek waits for the metadata.
  audio.addEventListener('loadedmetadata',function once(){audio.removeEventListener('loadedmetadata',once);audio.currentTime=t;});
  audio.preload='auto';play(audio);
}
document.addEventListener('click',function(e){
  var a=e.target.closest('a.seek');
  if(a){e.preventDefault();var sec=a.closest('section.call'),au=sec&&sec.querySelector('audio');
    if(au)seek(au,parseFloat(a.getAttribute('data-t'))||0);return;}
  var f=e.target.closest('[data-set-filter]');
  if(f){selects.forEach(function(s){s.value=s.getAttribute('data-filter')===f.getAttribute('data-set-filter')?f.getAttribute('data-value'):'';});
    applyFilters();document.getElementById('calls-list').scrollIntoView();return;}
  var p=e.target.closest('button.print-one');
  if(p){var sec2=p.closest('section.call');sec2.classList.add('print-target');document.body.classList.add('print-one');
    window.print();document.body.classList.remove('print-one');sec2.classList.remove('print-target');}
});
[].forEach.call(document.querySelectorAll('section.call audio'),function(au){
  var lines=au.closest('section.call').querySelectorAll('li.utt[data-start]');
  au.addEventListener('timeupdate',function(){
    var t=au.currentTime;
    [].forEach.call(lines,function(li){li.classList.toggle('now',t>=+li.getAttribute('data-start')&&t<+li.getAttribute('data-end'));});
  });
});
})();
"""


def _page(summaries: list[dict], path: Path, batch_dir: Path | None, run_info: dict | None) -> str:
    batch = (run_info or {}).get("batch")
    title = "贷后回访合规审查报告" + (f" · {_text(batch)}" if batch else "")
    sections = "".join(_call_section(s, path, batch_dir) for s in summaries)
    info = _run_info_html(run_info, summaries)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header class="top"><h1>{html.escape(title)}</h1><div class="meta">{info}</div>
<nav class="toc"><a href="#overview">概览</a><a href="#calls-list">通话列表</a></nav></header>
<div class="page">
{_overview_html(summaries, run_info)}
{_table_html(summaries)}
<main>{sections}</main>
<footer>{info}<div>本报告中的身份证号、银行卡号、电话号码已脱敏，仅供行内贷后合规审查使用，请勿外传。</div></footer>
</div>
<script>{_JS}</script>
</body>
</html>
"""


def render_report(
    summaries: list[dict],
    path: Path,
    *,
    batch_dir: Path | None = None,
    run_info: dict | None = None,
) -> None:
    """Write the batch's reviewers' report to ``path`` as one self-contained HTML file.

    ``batch_dir`` is the folder that ``summary["audio_path"]`` is relative to; the
    players then point at the recordings relative to the report's folder.
    """
    path = Path(path)
    page = _page(_sorted(summaries), path, batch_dir, run_info)
    atomic_write(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))


# --- Excel list -----------------------------------------------------------------------------

_XLSX_COLUMNS: tuple[tuple[str, int], ...] = (
    ("通话编号", 14),
    ("贷款编号", 16),
    ("借款人", 10),
    ("通话时间", 17),
    ("接通情况", 10),
    ("风险等级", 9),
    ("风险标记", 24),
    ("建议措施", 30),
    ("资金用途", 16),
    ("还款能力", 10),
    ("抵押物状态", 12),
    ("项目进度", 12),
    ("经营状况", 10),
    ("坐席合规问题", 28),
    ("摘要", 60),
    ("状态/错误", 24),
)
_XLSX_RISK_FILL = {"critical": "7F1D1D", "high": "DC2626", "medium": "D97706", "low": "15803D", "failed": "6B7280"}
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _compliance_issues(summary: dict) -> str:
    """The agent's compliance problems in one line, empty when there are none."""
    comp = summary.get("agent_compliance") if isinstance(summary.get("agent_compliance"), dict) else {}
    issues = []
    if comp.get("recording_disclosed") is False:
        issues.append("未告知录音")
    if comp.get("identity_verified") is False:
        issues.append("未核实身份")
    missing = [FACT_NAMES_ZH.get(str(t), str(t)) for t in comp.get("topics_missing") or []]
    if missing:
        issues.append("未覆盖：" + "、".join(missing))
    prohibited = [p.get("text") if isinstance(p, dict) else p for p in comp.get("prohibited_language") or []]
    if prohibited:
        issues.append("违规用语：" + "、".join(str(p) for p in prohibited if p))
    return "；".join(issues)


def _fact_cell(summary: dict, fact: str) -> str:
    facts = summary.get("facts") if isinstance(summary.get("facts"), dict) else {}
    data = facts.get(fact) if isinstance(facts.get(fact), dict) else {}
    if data.get("value") in (None, ""):
        return ""
    value = _fact_value_zh(fact, data.get("value"))
    if fact == "fund_use" and data.get("matches_contract") is False:
        value += "（与合同不符）"
    return value


def _xlsx_row(summary: dict) -> list[str]:
    status = summary.get("status") or "analyzed"
    status = f"处理失败：{summary.get('error') or '未知错误'}" if _is_failed(summary) else _STATUS_NAMES_ZH.get(status, status)
    return [
        str(summary.get("call_id") or ""),
        str(summary.get("loan_id") or ""),
        _text(_field(summary, "borrower_name")),
        _time_display(_called_at(summary)),
        OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", ""),
        _risk_name(_risk(summary)) if _risk(summary) else "",
        "、".join(FLAG_NAMES_ZH.get(c, c) for c in _flag_codes(summary)),
        "；".join(ACTION_NAMES_ZH.get(a, a) for a in summary.get("actions") or [] if a),
        *[_fact_cell(summary, fact) for fact in FACTS],
        _text(_compliance_issues(summary)),
        _text(summary.get("summary_zh")),
        _text(status),
    ]


def _set_text(cell: Any, value: str) -> None:
    """Store text as text: no control characters, and '=...' never becomes a formula."""
    cell.value = _ILLEGAL_XML.sub("", value)
    cell.data_type = "s"


def write_reviewers_xlsx(summaries: list[dict], path: Path) -> None:
    """Write one row per call, most urgent first, for reviewers who track cases in Excel."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    ordered = _sorted(summaries)
    wb = Workbook()
    ws = wb.active
    ws.title = "回访结果"
    header_fill = PatternFill("solid", fgColor="DCE6F1")
    for col, (name, width) in enumerate(_XLSX_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center")
        ws.column_dimensions[cell.column_letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    risk_col = [n for n, _ in _XLSX_COLUMNS].index("风险等级") + 1
    for row_idx, summary in enumerate(ordered, start=2):
        for col, value in enumerate(_xlsx_row(summary), start=1):
            cell = ws.cell(row=row_idx, column=col)
            _set_text(cell, value)
            cell.alignment = wrap
        fill = _XLSX_RISK_FILL.get(_risk(summary))
        if fill:
            risk_cell = ws.cell(row=row_idx, column=risk_col)
            risk_cell.fill = PatternFill("solid", fgColor=fill)
            risk_cell.font = Font(bold=True, color="FFFFFF")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{ws.cell(row=1, column=len(_XLSX_COLUMNS)).column_letter}{max(1, len(ordered) + 1)}"
    atomic_write(Path(path), lambda tmp: wb.save(tmp))
