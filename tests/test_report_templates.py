"""The report's Jinja2 templates: every value escaped, nothing loaded from outside, reusable by the workbench."""
from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipeline.outputs import report
from pipeline.labels import SPEAKER_NAMES_ZH, SPEAKERS
from pipeline.outputs.report import REPORT_TEMPLATES, TEMPLATES, render_report
from pipeline.outputs.report_call import call_view
from tests.test_report import PHONE, failed_call, high_risk_call, low_risk_call, not_connected_call

ROOT = Path(__file__).resolve().parent.parent
EVIL = '<x-evil a="1">'  # a tag that must never reach the page as a tag
EVIL_ATTR = '" onmouseover="x'  # breaks out of an attribute if not escaped


def _evil(value: str = "") -> str:
    return f"{value}{EVIL}{EVIL_ATTR}"


def hostile_call() -> dict:
    """A call whose every free-text field, identifier and code carries markup."""
    call = high_risk_call()
    call["call_id"] = _evil("C9")
    call["loan_id"] = _evil("L9")
    call["manifest"].update(borrower_name=_evil("王"), agent_name=_evil("坐席"), loan_purpose=_evil(), collateral=_evil(),
                            **{_evil("extra"): _evil()})
    call["summary_zh"] = _evil("摘要")
    call["call_outcome"] = _evil()
    call["actions"].append(_evil())
    call["analysis"] = {"audio_warning": _evil("录音截断")}
    call["flags"].append({"code": _evil("X"), "severity": "high", "reason": _evil(),
                          "evidence": [{"start": 1, "speaker": _evil(), "text": _evil(), "rule_id": _evil()}]})
    call["facts"]["fund_use"]["value"] = _evil()
    call["agent_compliance"]["topics_missing"] = [_evil()]
    call["agent_compliance"]["prohibited_language"] = [_evil(), {"start": 2.0, "speaker": "agent", "text": _evil()}]
    call["transcript"].append({"start": 30.0, "end": 31.0, "speaker": _evil(), "text": _evil("买股票"), "raw_text": _evil(),
                               "channel": _evil(), "terms": [{"start": 0, "end": 3, "rule_id": _evil(), "label": _evil()}]})
    call["history"][0].update(call_id=_evil(), summary_zh=_evil(), flags=[_evil()], called_at=_evil())
    return call


class _Page(HTMLParser):
    """Tags, attributes, inline style and script text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.inline: dict[str, list[str]] = {"style": [], "script": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in self.inline else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.inline[self._in].append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture
def hostile_page(tmp_path: Path) -> str:
    out = tmp_path / "report.html"
    run_info = {"batch": _evil("批次"), "model": _evil(), "manifest_errors": [_evil("第 2 行")]}
    render_report([hostile_call(), low_risk_call(), failed_call()], out, batch_dir=tmp_path, run_info=run_info)
    return out.read_text(encoding="utf-8")


def test_every_template_escapes_what_it_prints(hostile_page: str) -> None:
    page = _parse(hostile_page)
    assert not [tag for tag, _ in page.tags if tag == "x-evil"]
    assert not [attrs for _, attrs in page.tags if "onmouseover" in attrs]
    assert hostile_page.count("&lt;x-evil") >= 30  # shown as text, in every part of the page
    assert hostile_page.count("<script") == 1
    for shown in ("录音截断", "王", "坐席", "摘要", "第 2 行", "批次"):
        assert f"{shown}&lt;x-evil" in hostile_page


def test_templates_never_switch_escaping_off() -> None:
    """|safe or {% autoescape false %} would let a summary's text through unescaped."""
    templates = sorted(REPORT_TEMPLATES.glob("*.html"))
    assert {t.name for t in templates} >= {"report.html", "call.html", "overview.html", "macros.html"}
    for template in templates:
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup\(", source), template.name
    assert report.report_environment().autoescape is True


def test_report_has_no_external_resource(hostile_page: str) -> None:
    page = _parse(hostile_page)
    names = {tag for tag, _ in page.tags}
    assert not names & {"link", "img", "iframe", "object", "embed", "source", "base", "form"}
    for tag, attrs in page.tags:
        assert "srcset" not in attrs
        if tag == "script":
            assert "src" not in attrs
        for key in ("src", "href", "action", "poster"):
            value = attrs.get(key)
            if value is None:
                continue
            if tag == "audio" and key == "src":  # the call's recording, relative to the report
                assert not re.match(r"[a-z][a-z0-9+.-]*:|//|/", value, re.I), value
            else:
                assert value.startswith("#"), (tag, key, value)
    style, script = "".join(page.inline["style"]), "".join(page.inline["script"])
    assert style.strip() and script.strip()  # the files were inlined
    assert style == (REPORT_TEMPLATES / "report.css").read_text(encoding="utf-8")
    assert script == (REPORT_TEMPLATES / "report.js").read_text(encoding="utf-8")
    assert "url(" not in style and "@import" not in style
    assert not re.search(r"fetch\(|XMLHttpRequest|import\(|\.src\s*=", script)
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]


def test_audio_warning_is_a_badge_on_the_call(tmp_path: Path) -> None:
    call = low_risk_call()
    call["analysis"] = {"audio_warning": f"录音在 3 秒处中断，来电 {PHONE}"}
    out = tmp_path / "r.html"
    render_report([call, not_connected_call()], out)
    text = out.read_text(encoding="utf-8")
    assert text.count('class="badge audio-warning"') == 2  # in the table row and in the call's header
    assert "录音问题" in text and "138****5678" in text and PHONE not in text
    other = text[text.index('id="call-C0003"') : text.index('id="call-C0002"')]  # medium before low
    assert "audio-warning" not in other  # only the call that has one


def test_inline_file_refuses_what_would_end_the_element(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.js").write_text("var s='</script><script>alert(1)';", encoding="utf-8")
    monkeypatch.setattr(report, "REPORT_TEMPLATES", tmp_path)
    with pytest.raises(ValueError, match="bad.js"):
        report.inline_file("bad.js")


def test_workbench_can_reuse_the_call_macros() -> None:
    """A plain environment like the workbench's (FileSystemLoader, autoescape) renders a call section."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"], default=True))
    template = env.from_string('{% from "report/call.html" import call_section %}{{ call_section(c, speakers) }}')
    html = template.render(c=call_view(hostile_call(), "audio/x.wav"),
                           speakers=[(s, SPEAKER_NAMES_ZH[s]) for s in SPEAKERS])
    page = _parse(html)
    assert [a.get("class") for t, a in page.tags if t == "section"] == ["call"]
    assert "五项核查" in html and "00:20" in html and 'src="audio/x.wav"' in html
    assert not [tag for tag, _ in page.tags if tag == "x-evil"]


def test_templates_are_package_data() -> None:
    """A wheel carries every file the report renders from (templates, CSS, script)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["pipeline"]
    files = [p.relative_to(ROOT / "pipeline").as_posix() for p in REPORT_TEMPLATES.iterdir() if p.is_file()]
    assert files
    for name in files:
        assert any(fnmatch(name, g) for g in globs), name
