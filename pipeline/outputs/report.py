"""The compliance reviewers' report: one self-contained HTML page and an Excel list per batch.

Reviewers open the report on an internal network without internet, so the page
carries its own CSS and a little vanilla JS (filter, sort, seek in the audio)
and references nothing outside the batch. What the page shows is decided in
report_view.py / report_call.py (plain dicts, personal numbers masked); the
Jinja2 templates in templates/report only display it, with autoescaping on for
every template, so no free text reaches the page unescaped.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipeline.labels import (
    ACTION_NAMES_ZH,
    FACT_NAMES_ZH,
    FACTS,
    FLAG_NAMES_ZH,
    OUTCOME_NAMES_ZH,
    SCHEMA_VERSION,
    SPEAKER_NAMES_ZH,
    SPEAKERS,
)
from pipeline.outputs.files import atomic_write
from pipeline.outputs.report_call import (
    STATUS_NAMES_ZH,
    called_at,
    conduct_name,
    conduct_of,
    fact_value_zh,
    field,
    flag_codes,
    highlight_pieces,
    is_failed,
    risk_name,
    risk_of,
    text,
    time_display,
)
from pipeline.outputs.report_call import audio_src as audio_src
from pipeline.outputs.report_view import by_urgency, page_view
from pipeline.outputs.report_view import urgency_key as urgency_key

__all__ = [
    "render_report", "write_reviewers_xlsx", "urgency_key", "highlight_terms", "audio_src", "report_environment", "TEMPLATES",
]

# The templates folder (pipeline/outputs/templates): the report's pages under report/, for the workbench too.
TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATES = TEMPLATES / "report"

# Defence in depth: the page runs only its own inline code and loads nothing but the local
# recordings (same server, or file:// when the report is opened from a share).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; media-src 'self' file: blob:"
_LINE_BREAK = re.compile(r"\n[ \t]*")
# What may not appear in an inlined file: it would end the <style>/<script> element early.
_CLOSES_ELEMENT = re.compile(r"</(?:style|script)", re.I)


class JoinedLinesLoader(FileSystemLoader):
    """Templates written one element a line, rendered without the newlines and indentation.

    Whitespace between inline elements is visible text (a space) in HTML, so the
    report's templates would otherwise change what the page shows; here a line break
    adds nothing and a space that matters is written on its line.
    """

    def get_source(self, environment: Environment, template: str):  # type: ignore[override]
        source, filename, uptodate = super().get_source(environment, template)
        return _LINE_BREAK.sub("", source), filename, uptodate


def inline_file(name: str) -> Markup:
    """The report's own CSS or script (templates/report/``name``) for inlining in <style>/<script>."""
    content = (REPORT_TEMPLATES / name).read_text(encoding="utf-8")
    if _CLOSES_ELEMENT.search(content):
        raise ValueError(f"{REPORT_TEMPLATES / name}: contains '</style' or '</script', which would end the inlined element")
    return Markup(content)


@lru_cache(maxsize=1)
def report_environment() -> Environment:
    """The Jinja2 environment of the report: autoescape on for every template, undefined names are errors."""
    env = Environment(
        loader=JoinedLinesLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.globals.update(
        inline=inline_file,
        csp=_CSP,
        schema_version=SCHEMA_VERSION,
        speakers=[(key, SPEAKER_NAMES_ZH[key]) for key in SPEAKERS],
    )
    return env


def highlight_terms(line: Any, terms: Any) -> str:
    """Escaped, masked ``line`` with matched lexicon terms wrapped in ``<mark title=rule_id>`` (see highlight_pieces)."""
    macros = report_environment().get_template("report/macros.html").module
    return str(macros.highlighted(highlight_pieces(line, terms)))  # type: ignore[attr-defined]


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
    page = report_environment().get_template("report/report.html").render(
        page=page_view(summaries, path, batch_dir, run_info)
    )
    atomic_write(path, lambda tmp: tmp.write_text(page + "\n", encoding="utf-8"))


# --- Excel list -----------------------------------------------------------------------------

_XLSX_COLUMNS: tuple[tuple[str, int], ...] = (
    ("通话编号", 14),
    ("贷款编号", 16),
    ("借款人", 10),
    ("通话时间", 17),
    ("接通情况", 10),
    ("风险等级", 9),
    ("通话行为等级", 11),
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
    ("数据版本", 8),
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
    value = fact_value_zh(fact, data.get("value"))
    if fact == "fund_use" and data.get("matches_contract") is False:
        value += "（与合同不符）"
    return value


def _xlsx_row(summary: dict) -> list[str]:
    status = summary.get("status") or "analyzed"
    status = f"处理失败：{summary.get('error') or '未知错误'}" if is_failed(summary) else STATUS_NAMES_ZH.get(status, status)
    return [
        str(summary.get("call_id") or ""),
        str(summary.get("loan_id") or ""),
        text(field(summary, "borrower_name")),
        time_display(called_at(summary)),
        OUTCOME_NAMES_ZH.get(summary.get("call_outcome") or "", ""),
        risk_name(risk_of(summary)) if risk_of(summary) else "",
        conduct_name(conduct_of(summary)) if conduct_of(summary) else "",
        "、".join(FLAG_NAMES_ZH.get(c, c) for c in flag_codes(summary)),
        "；".join(ACTION_NAMES_ZH.get(a, a) for a in summary.get("actions") or [] if a),
        *[_fact_cell(summary, fact) for fact in FACTS],
        text(_compliance_issues(summary)),
        text(summary.get("summary_zh")),
        text(status),
        str(summary.get("schema_version") or ""),
    ]


def _set_text(cell: Any, value: str) -> None:
    """Store text as text: no control characters, and '=...' never becomes a formula."""
    cell.value = _ILLEGAL_XML.sub("", value)
    cell.data_type = "s"


def write_reviewers_xlsx(summaries: list[dict], path: Path) -> None:
    """Write one row per call, most urgent first, for reviewers who track cases in Excel."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    ordered = by_urgency(summaries)
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
    conduct_col = risk_col + 1
    for row_idx, summary in enumerate(ordered, start=2):
        for col, value in enumerate(_xlsx_row(summary), start=1):
            cell = ws.cell(row=row_idx, column=col)
            _set_text(cell, value)
            cell.alignment = wrap
        fill = _XLSX_RISK_FILL.get(risk_of(summary))
        if fill:
            risk_cell = ws.cell(row=row_idx, column=risk_col)
            risk_cell.fill = PatternFill("solid", fgColor=fill)
            risk_cell.font = Font(bold=True, color="FFFFFF")
        conduct_fill = _XLSX_RISK_FILL.get(conduct_of(summary)) if conduct_of(summary) != "none" else None
        if conduct_fill:
            conduct_cell = ws.cell(row=row_idx, column=conduct_col)
            conduct_cell.fill = PatternFill("solid", fgColor=conduct_fill)
            conduct_cell.font = Font(bold=True, color="FFFFFF")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{ws.cell(row=1, column=len(_XLSX_COLUMNS)).column_letter}{max(1, len(ordered) + 1)}"
    atomic_write(Path(path), lambda tmp: wb.save(tmp))
