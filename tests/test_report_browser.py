"""The reviewers' report in a real browser: Debian's headless Chromium, driven by Playwright.

These tests open ``report.html`` the way a reviewer does (from a file, offline) and check
what only a browser can show: the filters, the audio seeking, that the page requests
nothing outside the file system, that hostile transcript text stays text, and what the
page looks like (screenshots in ``out/screenshots/``). Chromium and Playwright are test
requirements (``.ci/run`` installs them): when either is missing the tests fail, never skip.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.outputs.report import render_report

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "tests" / "data" / "two_channel_short.wav"  # 5.13 s, two channels
SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
LOCAL_SCHEMES = {"file", "data", "blob"}

ID_CARD = "110101199003074518"
ID_CARD_MASKED = "110***********4518"
XSS = "<script>alert(1)</script>"
AUDIO_NAME = "回访 C0101.wav"  # a space and Chinese in the name: the link must be URL-quoted


# --- what the report is rendered from ------------------------------------------------------


def _ev(start: float, speaker: str, text: str, rule_id: str | None = None) -> dict:
    item = {"start": start, "end": start + 1.0, "speaker": speaker, "text": text}
    if rule_id:
        item["rule_id"] = rule_id
    return item


def _facts(**values: str) -> dict:
    names = ("fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition")
    return {f: {"value": values.get(f, "not_mentioned"), "confidence": 0.9, "evidence": []} for f in names}


def _flag(code: str, severity: str = "high", evidence: list | None = None) -> dict:
    return {"code": code, "severity": severity, "reason": f"测试理由 {code}", "evidence": evidence or []}


def _call(call_id: str, risk: str | None, flags: list[dict], **extra) -> dict:
    summary = {
        "schema_version": 1,
        "call_id": call_id,
        "loan_id": f"L-{call_id}",
        "status": "analyzed",
        "error": None,
        "call_outcome": "connected",
        "duration_s": 5.13,
        "manifest": {"borrower_name": "张三", "called_at": "2026-03-01T19:00:00+08:00", "agent_id": "A01"},
        "transcript": [],
        "facts": _facts(),
        "flags": flags,
        "risk_level": risk,
        "actions": [],
        "agent_compliance": {"recording_disclosed": True, "identity_verified": True, "topics_covered": [],
                             "topics_missing": [], "prohibited_language": []},
        "summary_zh": f"通话 {call_id} 的摘要。",
    }
    summary.update(extra)
    return summary


def browser_summaries() -> list[dict]:
    """Five calls over four flags; two have audio, one hostile text and an ID-card number."""
    misuse_ev = _ev(2.48, "customer", "都用来进货，还有发工资。", "FU_01")
    hostile = {
        "start": 3.2, "end": 4.7, "speaker": "customer",
        "text": f"我的身份证号是{ID_CARD}，{XSS}", "raw_text": f"我的身份证号是{ID_CARD}，{XSS}", "confidence": 0.8,
    }
    facts = _facts(fund_use="securities_investment", repayment_ability="strained")
    facts["fund_use"].update(matches_contract=False, evidence=[misuse_ev])
    facts["repayment_ability"]["evidence"] = [_ev(4.0, "customer", "还款有点吃力")]
    with_audio = _call(
        "C0101", "critical",
        [_flag("FUND_MISUSE", evidence=[misuse_ev]), _flag("REPAYMENT_RISK", "medium")],
        audio_path=f"audio/{AUDIO_NAME}",
        facts=facts,
        actions=["verify_with_documents", "escalate_to_risk_committee"],
        transcript=[
            {"start": 0.4, "end": 1.98, "speaker": "agent", "text": "请问这笔贷款用在哪里？", "channel": "left"},
            {"start": 2.48, "end": 3.1, "speaker": "customer", "text": "都用来进货，还有发工资。", "channel": "right",
             "terms": [{"start": 3, "end": 5, "text": "进货", "rule_id": "FU_01", "label": "fund_use:business"}]},
            hostile,
        ],
        summary_zh=f"客户身份证{ID_CARD}，称资金部分用于发工资。",
    )
    return [
        _call("C0102", "low", []),
        _call("C0103", "medium", [_flag("CONTACT_FAILED", "medium")], call_outcome="not_connected",
              actions=["schedule_callback"]),
        with_audio,
        _call("C0104", "high", [_flag("FUND_MISUSE", evidence=[_ev(1.0, "agent", "请问这笔贷款用在哪里？")]),
                                _flag("COLLATERAL_RISK")], audio_path="audio/C0104.wav"),
        _call("C0105", None, [], status="failed", error="无法解码音频", call_outcome=None),
    ]


# --- browser --------------------------------------------------------------------------------


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed: pip install -e '.[test]' (never `playwright install`)"
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} not found: apt-get install -y --no-install-recommends chromium fonts-noto-cjk "
                "(.ci/run does this)")
    return None


def test_browser_is_installed() -> None:
    """Chromium and Playwright are requirements of the suite, not optional extras."""
    problem = _missing()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    problem = _missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """The report rendered beside a batch folder whose two recordings are a real 5 s wav."""
    root = tmp_path_factory.mktemp("browser")
    batch = root / "batch"
    (batch / "audio").mkdir(parents=True)
    for name in (AUDIO_NAME, "C0104.wav"):
        shutil.copyfile(CLIP, batch / "audio" / name)
    summaries = browser_summaries()
    out = root / "out" / "report.html"
    render_report(summaries, out, batch_dir=batch,
                  run_info={"batch": "2026-03-01", "generated_at": "2026-03-02T01:00:00+08:00"})
    return out, summaries


class Opened:
    """A page with the report open, and everything it did while open."""

    def __init__(self, page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def opened(browser, report) -> Iterator[Opened]:
    path, _ = report
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    seen = Opened(page)
    context.on("request", lambda request: seen.requests.append(request.url))

    def on_dialog(dialog) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
    page.on("console", lambda msg: seen.errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.goto(path.as_uri(), wait_until="load")
    try:
        yield seen
    finally:
        context.close()


def _visible_ids(page, selector: str, attribute: str) -> list[str]:
    return page.eval_on_selector_all(
        selector, f"els => els.filter(e => e.offsetParent !== null).map(e => e.getAttribute('{attribute}'))"
    )


# --- the checks -----------------------------------------------------------------------------


def test_flag_filter_shows_exactly_the_calls_with_that_flag(opened: Opened, report) -> None:
    page = opened.page
    _, summaries = report
    all_ids = sorted(s["call_id"] for s in summaries)
    flag_select = page.locator('select[data-filter="flags"]')
    options = [v for v in flag_select.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    expected_codes = sorted({f["code"] for s in summaries for f in s["flags"]})
    assert sorted(options) == expected_codes

    for code in options:
        flag_select.select_option(code)
        want = sorted(s["call_id"] for s in summaries if code in {f["code"] for f in s["flags"]})
        assert sorted(_visible_ids(page, "#calls-table tbody tr", "data-call-id")) == want, code
        assert sorted(_visible_ids(page, "section.call", "data-call-id")) == want, code
        assert page.inner_text("#shown-count") == str(len(want))

    page.click("#reset-filters")
    assert sorted(_visible_ids(page, "#calls-table tbody tr", "data-call-id")) == all_ids
    # The overview's bar chart sets the same filter.
    page.click('.bar-label[data-set-filter="flags"][data-value="FUND_MISUSE"]')
    assert flag_select.input_value() == "FUND_MISUSE"
    assert sorted(_visible_ids(page, "#calls-table tbody tr", "data-call-id")) == ["C0101", "C0104"]
    # Filters combine: a flag and a risk level.
    page.locator('select[data-filter="risk"]').select_option("high")
    assert _visible_ids(page, "#calls-table tbody tr", "data-call-id") == ["C0104"]
    assert _visible_ids(page, "section.call", "data-call-id") == ["C0104"]
    assert opened.errors == []


def test_clicking_an_evidence_time_seeks_the_audio(opened: Opened) -> None:
    page = opened.page
    section = page.locator("#call-C0101")
    audio = section.locator("audio")
    assert audio.count() == 1
    links = section.locator("a.seek")
    times = sorted({float(t) for t in links.evaluate_all("as => as.map(a => a.getAttribute('data-t'))")})
    assert times and max(times) < 5.0  # all inside the clip

    # Record where each seek lands (playback moves currentTime on afterwards).
    audio.evaluate("a => { window.__seeks = []; a.addEventListener('seeked', () => window.__seeks.push(a.currentTime)); }")
    for target in (2.48, 4.0, 0.4):  # the first click also loads the recording (preload="none")
        link = section.locator(f'a.seek[data-t="{target:g}"]').first
        link.click()
        page.wait_for_function(
            "t => window.__seeks.length && Math.abs(window.__seeks[window.__seeks.length - 1] - t) < 0.5",
            arg=target, timeout=10_000,
        )
        now = audio.evaluate("a => a.currentTime")
        assert abs(now - target) < 1.5, (target, now)  # it may have played on a little since
    assert audio.evaluate("a => a.readyState") >= 1
    assert abs(audio.evaluate("a => a.duration") - 5.13) < 0.1  # the real file was loaded
    assert page.url.endswith("report.html")  # href="#" did not navigate
    assert opened.errors == []


def test_one_recording_plays_at_a_time(opened: Opened) -> None:
    page = opened.page
    first, second = page.locator("#call-C0101 audio"), page.locator("#call-C0104 audio")
    page.locator("#call-C0101 a.seek").first.click()
    page.wait_for_function("() => !document.querySelector('#call-C0101 audio').paused", timeout=10_000)
    page.locator("#call-C0104 a.seek").first.click()
    page.wait_for_function("() => !document.querySelector('#call-C0104 audio').paused", timeout=10_000)
    assert first.evaluate("a => a.paused")  # evidence from another call stops the first recording
    assert not second.evaluate("a => a.paused")
    assert opened.errors == []


def test_no_request_leaves_the_file(opened: Opened) -> None:
    page = opened.page
    # Exercise everything that might load something: filters, sorting, seeking (loads the audio).
    page.locator('select[data-filter="risk"]').select_option("critical")
    page.click("#reset-filters")
    page.click('#calls-table th[data-col="3"]')
    page.locator("#call-C0101 a.seek").first.click()
    page.wait_for_function("() => document.querySelector('#call-C0101 audio').readyState >= 1", timeout=10_000)
    page.wait_for_load_state("networkidle")
    assert opened.requests, "no request was recorded at all"
    assert any(urlsplit(u).path.endswith(".wav") for u in opened.requests), opened.requests
    remote = [u for u in opened.requests if urlsplit(u).scheme not in LOCAL_SCHEMES]
    assert remote == []
    assert opened.errors == []


def test_hostile_transcript_is_escaped_and_masked(opened: Opened) -> None:
    page = opened.page
    page.locator("#call-C0101 a.seek").first.click()  # any interaction: still no script may run
    page.wait_for_timeout(200)
    assert opened.dialogs == []
    transcript = page.inner_text("#call-C0101 ol.transcript")
    assert XSS in transcript
    assert ID_CARD_MASKED in transcript
    content = page.content()
    assert ID_CARD not in content
    assert ID_CARD not in page.inner_text("body")
    assert page.locator("script").count() == 1  # only the report's own
    assert opened.errors == []


def test_screenshots_of_the_overview_and_a_call(opened: Opened) -> None:
    page = opened.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.fonts.ready")
    bottom = page.evaluate(
        "() => { const r = document.getElementById('overview').getBoundingClientRect(); return r.bottom + window.scrollY; }"
    )
    overview = SCREENSHOTS / "overview.png"
    page.screenshot(path=str(overview), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": bottom + 16})
    call = SCREENSHOTS / "call.png"
    page.locator("#call-C0101").screenshot(path=str(call))
    for shot in (overview, call):
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, shot
