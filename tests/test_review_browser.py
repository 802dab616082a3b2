"""The reviewers' workbench in a real browser (Debian's Chromium driven by Playwright), served by uvicorn.

A reviewer logs in, works the queue, confirms and dismisses flags, corrects a fact,
notes and sets a status; the decisions then show in the audit export, the reviewed
report and the reviewed workbook. A reviewer cannot open supervisor pages, a form
without its CSRF token is refused, ten wrong passwords throttle the account.
Screenshots: out/screenshots/review_queue.png and review_call.png.
"""
from __future__ import annotations

import io
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.review_fixtures import NIGHTS, PHONE, build_review_root
from tests.test_report_browser import SCREENSHOTS, browser  # noqa: F401 - the report tests' Chromium fixture

N1, N2 = list(NIGHTS)
PASSWORDS = {"wang": "wang-password-1", "li": "li-password-123", "zhou": "zhou-password-1"}


def _cli(*argv: str, stdin: str = "") -> int:
    from pipeline.cli import main

    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(list(argv))
    finally:
        sys.stdin = saved


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict]:
    """The workbench over two fixture nights, on a free port of 127.0.0.1, with three accounts."""
    import uvicorn

    from pipeline.review.app import create_app, refresh_reviewed_outputs

    built = build_review_root(tmp_path_factory.mktemp("workbench"))
    root, history = built["root"], built["root"] / "history.sqlite"
    for user, role in (("wang", "reviewer"), ("li", "supervisor"), ("zhou", "reviewer")):
        assert _cli("reviewers", "add", user, "--role", role, "--history", str(history), "--password-stdin",
                    stdin=PASSWORDS[user] + "\n") == 0
    refresh_reviewed_outputs(root, history)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(root, history), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield {"url": f"http://127.0.0.1:{port}", "root": root, "history": history}
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def _login(browser, server, user: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"] + "/login")
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', PASSWORDS[user])
    page.click('#login-form button[type="submit"]')
    page.wait_for_selector("#queue")
    return context, page, errors


def _queue_ids(page) -> list[str]:
    return page.eval_on_selector_all("#queue tbody tr[data-call-id]", "rs => rs.map(r => r.dataset.callId)")


def test_a_reviewer_works_the_queue_and_the_decisions_reach_export_report_and_xlsx(browser, server, tmp_path) -> None:
    context, page, errors = _login(browser, server, "wang")
    cookie = next(c for c in context.cookies() if c["name"] == "hf_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    ids = _queue_ids(page)
    assert len(ids) == 21 and set(ids[:4]) == {"R008", "R010", "R004", "R006"}  # the critical ones first (their order: facts to check)
    assert ids.index("R007") < ids.index("R002")  # a high conduct level ranks with high risk, needs_review first
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.fonts.ready")
    page.screenshot(path=str(SCREENSHOTS / "review_queue.png"), full_page=True)

    # Filter: one night, one flag.
    page.select_option('select[name="night"]', N1)
    page.select_option('select[name="flag"]', "COLLATERAL_RISK")
    page.click('#filters button[type="submit"]')
    page.wait_for_load_state()
    assert sorted(_queue_ids(page)) == ["R003", "R006", "R010"]

    page.click('#queue a:text-is("R003")')
    page.wait_for_selector("#transcript")
    assert page.url.endswith(f"/call/{N1}/R003")
    # The transcript follows playback.
    page.locator("#transcript button.seek").nth(0).click()  # the fixture's recording is a 5 s clip: the first utterance
    page.wait_for_function("() => document.querySelector('#transcript li.playing') !== null", timeout=10_000)
    assert page.locator("#transcript li.playing").get_attribute("data-index") == "0"
    assert not page.evaluate("() => document.getElementById('player').paused")
    # Confirm one flag, dismiss another with a reason.
    flag = page.locator('.flag[data-code="REPAYMENT_RISK"]')
    flag.locator('button[value="confirmed"]').click()
    page.wait_for_selector("#saved")
    flag = page.locator('.flag[data-code="COLLATERAL_RISK"]')
    flag.locator('input[name="reason"]').fill("出租的是另一处商铺，抵押物自用")
    flag.locator('button[value="dismissed"]').click()
    page.wait_for_selector("#saved")
    assert "已驳回" in page.locator('.flag[data-code="COLLATERAL_RISK"]').inner_text()
    # Correct a fact and point at the evidence.
    fact = page.locator('.fact[data-fact="collateral_status"]')
    fact.locator("summary").click()
    fact.locator('select[name="value"]').select_option("intact")
    fact.locator('select[name="evidence"]').select_option("7")
    fact.locator('input[name="reason"]').fill("抵押物仍自用")
    fact.locator('button[type="submit"]').click()
    page.wait_for_selector("#saved")
    assert "更正为 完好" in page.locator('.fact[data-fact="collateral_status"]').inner_text()
    page.fill('#note-form textarea', f"坐席应追问出租的是哪处商铺，客户留了电话{PHONE}<b>！</b>")
    page.click('#note-form button')
    page.wait_for_selector("#saved")
    note = page.inner_text(".note")
    assert "<b>！</b>" in note and PHONE not in page.content()  # stays text, and a phone number is masked
    page.select_option('#status-form select[name="status"]', "已上报风险委员会")
    page.click('#status-form button')
    page.wait_for_selector("#saved")
    assert page.inner_text("#review-status") == "已上报风险委员会"
    assert "抵押物风险：驳回" in page.inner_text("#corrections")
    page.evaluate("() => document.fonts.ready")
    page.screenshot(path=str(SCREENSHOTS / "review_call.png"), full_page=True)
    # The agreement page counts the finished call: the collateral value was corrected, one of three flags dismissed.
    page.goto(server["url"] + "/stats")
    assert "0% (0/1)" in page.inner_text('#stats tr[data-fact="collateral_status"]')
    assert "100% (1/1)" in page.inner_text('#stats tr[data-fact="fund_use"]')
    assert page.inner_text('#stats tr[data-flag="COLLATERAL_RISK"]').count("0% / —") >= 1
    # Decided: it leaves the default queue (待复核), and shows under its new status.
    page.goto(server["url"] + "/")
    assert "R003" not in _queue_ids(page)
    page.goto(server["url"] + "/?status=" + "已上报风险委员会")
    assert _queue_ids(page) == ["R003"]
    assert errors == []
    context.close()

    # The audit export (CLI) has every decision: who, what it was, what it became, why.
    today = datetime.now(timezone.utc).date().isoformat()
    out = tmp_path / "trail.csv"
    assert _cli("audit", "export", "--history", str(server["history"]), "--from", today, "--to", today, "--out", str(out)) == 0
    trail = out.read_text(encoding="utf-8-sig")
    assert "wang,2026-11-28,R003,flag,COLLATERAL_RISK,raised,dismissed,出租的是另一处商铺，抵押物自用" in trail
    assert "R003,fact,collateral_status,leased,intact,抵押物仍自用" in trail
    assert "R003,status,,待复核,已上报风险委员会" in trail and "R003,flag,REPAYMENT_RISK,raised,confirmed" in trail
    xlsx_out = tmp_path / "trail.xlsx"
    assert _cli("audit", "export", "--history", str(server["history"]), "--out", str(xlsx_out)) == 0

    # The reviewed report, opened in the browser as reviewers open reports: the status and the correction.
    night_dir = server["root"] / N1
    context = browser.new_context(locale="zh-CN")
    report = context.new_page()
    report.goto((night_dir / "report.reviewed.html").as_uri())
    section = report.inner_text("#call-R003")
    assert "【复核：已上报风险委员会" in section and "抵押物状态：已出租→完好" in section
    row_text = report.inner_text('#calls-table tr[data-call-id="R003"]')
    assert "还款风险" in row_text and "抵押物风险" not in row_text  # the dismissed flag is gone from the reviewed list
    context.close()
    # ... and the reviewed workbook.
    from openpyxl import load_workbook

    ws = load_workbook(night_dir / "reviewers.reviewed.xlsx").active
    header = [c.value for c in ws[1]]
    row = next(dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "R003")
    assert row["复核状态"] == "已上报风险委员会" and row["抵押物状态"] == "完好"
    assert "抵押物风险：驳回" in row["复核更正"] and "抵押物风险" not in row["风险标记"]


def test_supervisor_pages_are_closed_to_reviewers_and_unmasked_views_are_logged(browser, server) -> None:
    from pipeline.review import store

    context, page, _ = _login(browser, server, "wang")
    assert page.locator("#nav-audit").count() == 0
    for path in ("/audit", f"/call/{N1}/R002/unmasked"):
        response = page.goto(server["url"] + path)
        assert response.status == 403, path
        assert PHONE not in page.content()
    page.goto(server["url"] + f"/call/{N1}/R002")
    assert page.locator("#unmasked-link").count() == 0 and PHONE not in page.content()
    context.close()

    context, page, _ = _login(browser, server, "li")
    page.goto(server["url"] + f"/call/{N1}/R002")
    page.click("#unmasked-link")
    page.wait_for_selector("#unmasked-transcript")
    assert PHONE in page.inner_text("#unmasked-transcript")
    response = page.goto(server["url"] + "/audit")
    assert response.status == 200 and "查看未脱敏转写" in page.inner_text("#audit")
    context.close()
    with closing(store.connect(server["history"])) as conn:
        views = store.decisions(conn, call_id="R002", kinds=("view_unmasked",))
    assert [(v.reviewer, v.night) for v in views] == [("li", N1)]


def test_a_form_without_its_csrf_token_is_refused(browser, server) -> None:
    from pipeline.review import store

    with closing(store.connect(server["history"])) as conn:
        before = len(store.decisions(conn))
    context, page, _ = _login(browser, server, "wang")
    url = server["url"] + f"/call/{N2}/R011/flag"
    forged = {"code": "FUND_MISUSE", "verdict": "dismissed", "reason": "伪造"}
    assert page.request.post(url, form=forged, max_redirects=0).status == 403
    assert page.request.post(url, form={**forged, "csrf": "not-the-token"}, max_redirects=0).status == 403
    # The same form with the page's own token goes through.
    page.goto(server["url"] + f"/call/{N2}/R011")
    token = page.locator('#note-form input[name="csrf"]').input_value()
    assert page.request.post(url, form={**forged, "csrf": token}, max_redirects=0).status == 303
    context.close()
    with closing(store.connect(server["history"])) as conn:
        assert len(store.decisions(conn)) == before + 1
    # Login is protected too: a login post without the login form's token is refused.
    context = browser.new_context()
    assert context.request.post(server["url"] + "/login", form={"username": "wang", "password": PASSWORDS["wang"]},
                                max_redirects=0).status == 403
    context.close()


def test_ten_wrong_passwords_throttle_the_account(browser, server) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(server["url"] + "/login")
    for attempt in range(10):
        page.fill('input[name="username"]', "zhou")
        page.fill('input[name="password"]', f"wrong-{attempt}")
        with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
            page.click('#login-form button[type="submit"]')
        assert answer.value.status == 401
        assert "用户名或密码错误" in page.inner_text("#login-error")
    page.fill('input[name="username"]', "zhou")
    page.fill('input[name="password"]', PASSWORDS["zhou"])  # right, but too late
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
        page.click('#login-form button[type="submit"]')
    assert answer.value.status == 429
    assert "锁定" in page.inner_text("#login-error")
    assert not any(c["name"] == "hf_session" for c in context.cookies())
    context.close()
