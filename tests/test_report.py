"""The reviewers' report: every call shown, urgent first, masked, escaped and self-contained."""
from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from pipeline.outputs.report import highlight_terms, render_report, urgency_key, write_reviewers_xlsx

ID_CARD = "110101199003074518"
PHONE = "13812345678"
XSS = "<script>alert(1)</script>"


def _ev(start: float, speaker: str, text: str, rule_id: str | None = None) -> dict:
    item = {"start": start, "end": start + 3.0, "speaker": speaker, "text": text}
    if rule_id:
        item["rule_id"] = rule_id
    return item


def _facts(**values: str) -> dict:
    facts = {}
    for fact in ("fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition"):
        facts[fact] = {"value": values.get(fact, "not_mentioned"), "confidence": 0.9, "evidence": []}
    return facts


def _compliance(**overrides) -> dict:
    data = {
        "recording_disclosed": True,
        "identity_verified": True,
        "topics_covered": ["fund_use", "repayment_ability"],
        "topics_missing": [],
        "prohibited_language": [],
    }
    data.update(overrides)
    return data


def high_risk_call() -> dict:
    stock = "这笔钱我拿去买股票了"
    misuse_ev = _ev(20.1, "customer", stock, "FU_SEC_01")
    facts = _facts(fund_use="securities_investment", repayment_ability="strained")
    facts["fund_use"].update(matches_contract=False, confidence=0.93, evidence=[misuse_ev])
    facts["repayment_ability"]["evidence"] = [_ev(31.0, "customer", "最近还款有点吃力")]
    return {
        "schema_version": 1,
        "call_id": "C0001",
        "loan_id": "L-2026-0001",
        "status": "analyzed",
        "error": None,
        "call_outcome": "connected",
        "duration_s": 62.4,
        "audio_path": "audio/C0001 王.wav",
        "manifest": {
            "call_id": "C0001",
            "borrower_name": "王建国",
            "called_at": "2026-03-01T19:02:00+08:00",
            "loan_amount": "500000",
            "loan_purpose": "经营周转",
            "collateral": "商铺",
            "agent_id": "A07",
        },
        "transcript": [
            {"start": 0.0, "end": 4.1, "speaker": "agent", "text": "您好，我是银行贷后回访专员，本次通话将被录音。", "channel": "left"},
            {
                "start": 12.3,
                "end": 18.0,
                "speaker": "customer",
                "text": f"我的身份证号是{ID_CARD}，电话{PHONE}，{XSS}",
                "raw_text": f"我的身份证号是{ID_CARD}，电话{PHONE}，{XSS}",
                "confidence": 0.82,
            },
            {
                "start": 20.1,
                "end": 24.9,
                "speaker": "customer",
                "text": stock,
                "raw_text": "这笔钱我拿去买古票了",
                "terms": [{"start": 7, "end": 9, "rule_id": "FU_SEC_01", "label": "fund_use:securities_investment"}],
            },
            {"start": 25.0, "end": 26.0, "speaker": "system", "text": "[静音]"},
        ],
        "facts": facts,
        "flags": [
            {"code": "FUND_MISUSE", "severity": "high", "reason": "客户称贷款资金用于购买股票", "evidence": [misuse_ev]},
            {"code": "REPAYMENT_RISK", "severity": "medium", "reason": "客户称还款吃力", "evidence": []},
        ],
        "risk_level": "critical",
        "actions": ["verify_with_documents", "escalate_to_risk_committee"],
        "agent_compliance": _compliance(topics_missing=["collateral_status"]),
        "summary_zh": f"客户王建国称贷款用于炒股，联系电话{PHONE}。",
        "history": [
            {"call_id": "C0000", "called_at": "2026-01-05T10:00:00+08:00", "risk_level": "medium",
             "flags": ["REPAYMENT_RISK"], "summary_zh": "客户称经营一般。"}
        ],
    }


def low_risk_call() -> dict:
    return {
        "schema_version": 1,
        "call_id": "C0002",
        "loan_id": "L-2026-0002",
        "status": "analyzed",
        "error": None,
        "call_outcome": "connected",
        "duration_s": 45.0,
        "audio_path": "audio/C0002.mp3",
        "manifest": {"borrower_name": "李娜", "called_at": "2026-03-01T19:10:00+08:00", "agent_id": "A08"},
        "transcript": [{"start": 1.0, "end": 3.0, "speaker": "customer", "text": "资金都用于进原材料了。"}],
        "facts": _facts(fund_use="business_operation", repayment_ability="normal", collateral_status="intact"),
        "flags": [],
        "risk_level": "low",
        "actions": [],
        "agent_compliance": _compliance(),
        "summary_zh": "客户确认资金用于采购原材料，经营正常。",
    }


def not_connected_call() -> dict:
    return {
        "schema_version": 1,
        "call_id": "C0003",
        "loan_id": "L-2026-0003",
        "status": "analyzed",
        "call_outcome": "not_connected",
        "duration_s": 8.0,
        "transcript": [{"start": 0.0, "end": 6.0, "speaker": "system", "text": "您拨打的电话暂时无法接通"}],
        "facts": _facts(),
        "flags": [{"code": "CONTACT_FAILED", "severity": "medium", "reason": "电话未接通", "evidence": []}],
        "risk_level": "medium",
        "actions": ["schedule_callback"],
        "summary_zh": "电话未接通，需安排回拨。",
    }


def failed_call() -> dict:
    """Shaped like outputs.failed_summary: every key present, values empty."""
    error = f"无法解码音频 /data/{PHONE}.amr"
    return {
        "schema_version": 1,
        "call_id": "C0004",
        "loan_id": "L-2026-0004",
        "status": "failed",
        "error": error,
        "call_outcome": None,
        "duration_s": None,
        "transcript": [],
        "facts": {f: {"value": None, "confidence": None, "evidence": []} for f in _facts()},
        "flags": [],
        "risk_level": None,
        "actions": [],
        "agent_compliance": _compliance(recording_disclosed=None, identity_verified=None, topics_covered=[]),
        "summary_zh": f"本通录音无法分析：{error}",
        "audio_path": None,
        "manifest": {"call_id": "C0004", "loan_id": "L-2026-0004", "borrower_name": "赵六"},
    }


@pytest.fixture
def summaries() -> list[dict]:
    return [low_risk_call(), failed_call(), not_connected_call(), high_risk_call()]


@pytest.fixture
def rendered(tmp_path: Path, summaries: list[dict]) -> tuple[Path, str]:
    batch_dir = tmp_path / "batch"
    out = tmp_path / "out" / "report.html"
    run_info = {"batch": "2026-03-01", "generated_at": "2026-03-02T01:00:00+08:00", "pipeline_version": "0.1.0",
                "model": "whisper-base", "n_calls": 4, "n_failed": 1,
                "manifest_errors": [f"第 7 行：找不到录音 {PHONE}.wav"]}
    render_report(summaries, out, batch_dir=batch_dir, run_info=run_info)
    return out, out.read_text(encoding="utf-8")


class _Rows(HTMLParser):
    """Collects the calls table's rows (attributes) and the call sections' ids."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.sections: list[str] = []
        self.audio: list[dict] = []
        self.marks: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-call-id" in a:
            self.rows.append(a)
        elif tag == "section" and "call" in (a.get("class") or "").split():
            self.sections.append(a["id"])
        elif tag == "audio":
            self.audio.append(a)
        elif tag == "mark":
            self.marks.append(a)


def _parse(text: str) -> _Rows:
    parser = _Rows()
    parser.feed(text)
    return parser


def test_every_call_has_a_row_and_a_section(rendered) -> None:
    _, text = rendered
    parsed = _parse(text)
    ids = {"C0001", "C0002", "C0003", "C0004"}
    assert {r["data-call-id"] for r in parsed.rows} == ids
    assert set(parsed.sections) == {f"call-{i}" for i in ids}
    for call_id in ids:
        assert f'href="#call-{call_id}"' in text


def test_rows_are_most_urgent_first_with_filter_attributes(rendered) -> None:
    _, text = rendered
    rows = {r["data-call-id"]: r for r in _parse(text).rows}
    order = [r["data-call-id"] for r in _parse(text).rows]
    assert order == ["C0001", "C0003", "C0002", "C0004"]  # critical, medium, low, failed
    assert rows["C0001"]["data-flags"].split() == ["FUND_MISUSE", "REPAYMENT_RISK"]
    assert rows["C0001"]["data-risk"] == "critical"
    assert rows["C0001"]["data-loan"] == "L-2026-0001"
    assert rows["C0001"]["data-outcome"] == "connected"
    assert rows["C0002"]["data-flags"] == ""
    assert rows["C0003"]["data-flags"] == "CONTACT_FAILED"
    assert rows["C0003"]["data-outcome"] == "not_connected"
    assert rows["C0004"]["data-risk"] == "failed"


def test_pii_and_markup_are_masked_and_escaped(rendered) -> None:
    _, text = rendered
    assert ID_CARD not in text
    assert PHONE not in text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "110***********4518" in text
    assert "138****5678" in text
    assert text.count("<script") == 1  # only the report's own inline script


def test_report_is_self_contained(rendered) -> None:
    _, text = rendered
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I)
    assert "<script src" not in text.lower()
    assert "<link" not in text.lower()
    assert "@import" not in text
    assert "url(" not in text
    assert "PingFang SC" in text and "Microsoft YaHei" in text


def test_audio_src_is_relative_to_the_report(rendered, tmp_path: Path) -> None:
    out, text = rendered
    audio = {a["src"] for a in _parse(text).audio}
    expected = os.path.relpath(tmp_path / "batch" / "audio" / "C0001 王.wav", out.parent).replace(os.sep, "/")
    assert expected == "../batch/audio/C0001 王.wav"
    assert quote(expected) in audio
    assert all(a.get("preload") == "none" for a in _parse(text).audio)
    assert len(audio) == 2  # calls without audio_path get no player


def test_call_section_content(rendered) -> None:
    _, text = rendered
    section = text[text.index('id="call-C0001"') : text.index('id="call-C0003"')]
    assert "用于股票等投资" in section and "与合同约定用途不符" in section
    assert "资金挪用" in section and "客户称贷款资金用于购买股票" in section
    assert "提交风险委员会" in section
    assert 'class="seek" href="#" data-t="20.1"' in section
    assert "未覆盖事项" in section and "抵押物状态" in section
    assert "该笔贷款的历次回访" in section and "C0000" in section
    assert '<mark title="FU_SEC_01" data-label="fund_use:securities_investment">股票</mark>' in section
    for speaker in ("agent", "customer", "system"):
        assert f"utt spk-{speaker}" in section
    failed = text[text.index('id="call-C0004"') :]
    assert "无法解码音频" in failed and "五项核查" not in failed
    not_connected = text[text.index('id="call-C0003"') : text.index('id="call-C0002"')]
    assert "安排回拨" in not_connected and "五项核查" not in not_connected
    assert 'data-t="0"' in not_connected


def test_overview_counts(rendered) -> None:
    _, text = rendered
    overview = text[text.index('id="overview"') : text.index('id="calls-list"')]
    assert "需回拨的通话（1）" in overview and "C0003" in overview
    assert "处理失败的通话（1）" in overview and "无法解码音频" in overview
    assert "第 7 行：找不到录音 138****5678.wav" in overview
    assert "资金挪用" in overview and "联系失败" in overview


def test_print_css_breaks_before_each_call(rendered) -> None:
    _, text = rendered
    assert "@media print" in text
    assert "page-break-before:always" in text.replace(" ", "")


def test_highlight_drops_marks_that_would_split_a_number() -> None:
    text = f"电话{PHONE}好的"
    split = highlight_terms(text, [{"start": 2, "end": 7, "rule_id": "R1", "label": "x"}])
    assert "<mark" not in split and PHONE not in split and "138****5678" in split
    out_of_range = highlight_terms("短", [{"start": 0, "end": 9, "rule_id": "R1"}])
    assert out_of_range == "短"
    ok = highlight_terms("<b>买股票</b>", [{"start": 4, "end": 6, "rule_id": "R<2>"}])
    assert ok == '&lt;b&gt;买<mark title="R&lt;2&gt;" data-label="">股票</mark>&lt;/b&gt;'
    shifted = highlight_terms("没买股票", [{"start": 0, "end": 2, "rule_id": "R3", "text": "股票"}])
    assert "<mark" not in shifted  # offsets that do not point at the matched text are dropped
    negated = highlight_terms("没有买股票", [{"start": 3, "end": 5, "rule_id": "R4", "label": "fund_use:x", "negated": True}])
    assert '<mark class="neg" title="R4" data-label="fund_use:x（否定）">股票</mark>' in negated
    overlapping = highlight_terms("买股票基金", [{"start": 1, "end": 3, "rule_id": "A"}, {"start": 2, "end": 5, "rule_id": "B"}])
    assert overlapping.count("<mark") == 1


def test_render_tolerates_missing_extensions(tmp_path: Path) -> None:
    bare = {"call_id": "X1", "status": "analyzed", "risk_level": "low"}
    out = tmp_path / "r.html"
    render_report([bare, {"call_id": "X2", "status": "failed", "error": None}], out)
    text = out.read_text(encoding="utf-8")
    assert 'id="call-X1"' in text and 'id="call-X2"' in text
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left behind


def test_urgency_key_orders_failed_after_low() -> None:
    calls = [failed_call(), low_risk_call(), high_risk_call(), not_connected_call()]
    assert [c["call_id"] for c in sorted(calls, key=urgency_key)] == ["C0001", "C0003", "C0002", "C0004"]


def test_reviewers_xlsx(tmp_path: Path, summaries: list[dict]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "reviewers.xlsx"
    write_reviewers_xlsx(summaries, out)
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header == ["通话编号", "贷款编号", "借款人", "通话时间", "接通情况", "风险等级", "通话行为等级", "风险标记", "建议措施",
                      "资金用途", "还款能力", "抵押物状态", "项目进度", "经营状况", "坐席合规问题", "摘要", "状态/错误", "数据版本"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:R5"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == ["C0001", "C0003", "C0002", "C0004"]  # flagged calls first
    first = dict(zip(header, rows[0]))
    assert first["风险等级"] == "严重"
    assert first["通话行为等级"] == "无"  # a v1 summary: derived from its flags
    assert first["风险标记"] == "资金挪用、还款风险"
    assert first["资金用途"] == "用于股票等投资（与合同不符）"
    assert "未覆盖：抵押物状态" in first["坐席合规问题"]
    assert PHONE not in first["摘要"] and "138****5678" in first["摘要"]
    last = dict(zip(header, rows[-1]))
    assert last["状态/错误"].startswith("处理失败：") and PHONE not in last["状态/错误"]
    assert [p.name for p in tmp_path.iterdir()] == ["reviewers.xlsx"]
