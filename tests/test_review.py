"""The workbench without a browser: accounts, the append-only trail, the queue, the overlay,
agreement figures against a hand count, the export, and retraining from simulated reviews."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pipeline.review import auth, store
from pipeline.review.nights import build_queue, find_nights
from tests.review_fixtures import NIGHTS, build_review_root, eval_calls

N1, N2 = list(NIGHTS)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    return build_review_root(tmp_path_factory.mktemp("review"))


@pytest.fixture
def conn(tmp_path):
    with closing(store.connect(tmp_path / "history.sqlite")) as c:
        yield c


def test_passwords_are_salted_scrypt_hashes(conn) -> None:
    auth.add_reviewer(conn, "wang", "correct-horse-1", "reviewer")
    auth.add_reviewer(conn, "zhao", "correct-horse-1", "reviewer")
    stored = [r["password_hash"] for r in conn.execute("SELECT password_hash FROM reviewers")]
    assert all(h.startswith("scrypt$32768$8$1$") for h in stored)
    assert stored[0] != stored[1]  # same password, different salt
    assert "correct-horse-1" not in " ".join(stored)
    assert auth.verify_password("correct-horse-1", stored[0]) and not auth.verify_password("correct-horse-2", stored[0])
    with pytest.raises(auth.AuthError):
        auth.add_reviewer(conn, "short", "abc", "reviewer")
    with pytest.raises(auth.AuthError):
        auth.add_reviewer(conn, "boss", "correct-horse-1", "admin")


def test_ten_wrong_passwords_throttle_even_the_right_one(conn) -> None:
    auth.add_reviewer(conn, "wang", "correct-horse-1", "reviewer")
    assert auth.authenticate(conn, "wang", "correct-horse-1")[0] is not None
    for _ in range(9):
        assert auth.authenticate(conn, "wang", "wrong-password") == (None, "invalid")
    assert auth.authenticate(conn, "wang", "correct-horse-1")[0] is not None  # 9 failures: not yet
    assert auth.authenticate(conn, "wang", "wrong-password") == (None, "invalid")  # the 10th
    assert auth.authenticate(conn, "wang", "correct-horse-1") == (None, "throttled")


def test_sessions_end_when_the_account_is_disabled(conn) -> None:
    auth.add_reviewer(conn, "wang", "correct-horse-1", "reviewer")
    token = auth.open_session(conn, "wang")
    user, csrf = auth.session_user(conn, token)
    assert user.username == "wang" and len(csrf) > 30
    assert token not in json.dumps([tuple(r) for r in conn.execute("SELECT * FROM review_sessions")])  # only its hash
    auth.set_active(conn, "wang", False)
    assert auth.session_user(conn, token) is None
    assert auth.authenticate(conn, "wang", "correct-horse-1")[0] is None


def test_the_trail_is_append_only(conn) -> None:
    store.record_decision(conn, reviewer="wang", night=N1, call_id="R002", kind="flag", target="FUND_MISUSE",
                          before="raised", after="dismissed", reason="客户说的是理财课程")
    store.record_decision(conn, reviewer="wang", night=N1, call_id="R002", kind="flag", target="FUND_MISUSE",
                          before="dismissed", after="confirmed", reason="复听确认")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE decisions SET after = 'dismissed'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM decisions")
    review = store.call_review(conn, N1, "R002")
    assert review.flags["FUND_MISUSE"].after == "confirmed"  # the later decision wins
    assert [d.after for d in store.decisions(conn)] == ["dismissed", "confirmed"]  # nothing lost


def test_queue_is_most_urgent_first_and_filters(built, conn) -> None:
    nights = find_nights(built["root"])
    assert list(nights) == [N1, N2]
    items = build_queue(nights, {}, {})
    order = [(i.risk_level, i.conduct_level) for i in items]
    rank = {"critical": 4, "high": 3, "medium": 2, "low": 0, "none": 0, "": 0}
    levels = [max(rank[r], rank[c]) for r, c in order]
    assert levels == sorted(levels, reverse=True)
    ids = [i.call_id for i in items]
    # R007: low credit risk but a high conduct level, so among the high ones; within a level,
    # calls with more facts to check come first.
    high = [i for i, lvl in zip(items, levels) if lvl == 3]
    assert "R007" in [i.call_id for i in high]
    checks = [len(i.needs_review) for i in high]
    assert checks == sorted(checks, reverse=True) and checks[0] > checks[-1]
    assert ids.index("R099") < ids.index("R001")  # a failed call before the calm ones
    assert {i.call_id for i in build_queue(nights, {}, {"flag": "PROJECT_RISK"})} == {"R004", "R009"}
    assert {i.call_id for i in build_queue(nights, {}, {"night": N2, "agent": "A10"})} == {"R011", "R012", "R013", "R017", "R019"}
    assert [i.call_id for i in build_queue(nights, {}, {"loan": "L-T-003"})] == ["R003"]


def _scripted_review(conn) -> None:
    """The scripted review whose figures are counted by hand in the next test."""
    def d(night, call_id, kind, target="", before=None, after=None, reason="", evidence=None, who="wang"):
        store.record_decision(conn, reviewer=who, night=night, call_id=call_id, kind=kind, target=target,
                              before=before, after=after, reason=reason, evidence=evidence)

    d(N1, "R002", "flag", "FUND_MISUSE", "raised", "confirmed")
    d(N1, "R002", "status", after="已复核")
    d(N1, "R003", "flag", "COLLATERAL_RISK", "raised", "dismissed", "出租的是另一处商铺")
    d(N1, "R003", "fact", "collateral_status", "leased", "intact", "抵押物未出租")
    d(N1, "R003", "status", after="已上报风险委员会", who="zhao")
    d(N1, "R001", "flag", "OTHER_DEBT", "not_raised", "added", "客户另有网贷")
    d(N1, "R001", "fact", "repayment_ability", "normal", "strained", "语气吃力")
    d(N1, "R001", "status", after="已复核")
    d(N1, "R004", "flag", "PROJECT_RISK", "raised", "dismissed", "未完成复核")  # still 待复核: not counted
    d(N2, "R015", "fact", "project_progress", "not_mentioned", "suspended", "工程队歇着=停工",
      {"start": 9.0, "end": 14.0, "speaker": "customer", "text": "工程队这阵子都歇着呢，等甲方的款到了再开工。", "context": "工地那边现在干到哪了？"})
    d(N2, "R015", "flag", "PROJECT_RISK", "not_raised", "added", "停工")
    d(N2, "R015", "status", after="已复核")
    d(N2, "R011", "flag", "FUND_MISUSE", "raised", "confirmed")
    d(N2, "R011", "fact", "fund_use", "securities_investment", "securities_investment", "确认")
    d(N2, "R011", "status", after="已转坐席主管")


def test_agreement_matches_a_hand_count(built, conn, capsys) -> None:
    summaries = built["summaries"]
    flags = {k: sorted(f["code"] for f in s["flags"]) for k, s in summaries.items()}
    # What the hand count assumes the machine said:
    assert flags[(N1, "R001")] == [] and flags[(N1, "R002")] == ["FUND_MISUSE"]
    assert flags[(N1, "R003")] == ["BUSINESS_DETERIORATION", "COLLATERAL_RISK", "REPAYMENT_RISK"]
    assert flags[(N2, "R011")] == ["FUND_MISUSE"] and flags[(N2, "R015")] == []
    assert summaries[(N1, "R003")]["facts"]["collateral_status"]["value"] == "leased"
    _scripted_review(conn)
    from pipeline.review.stats import agreement

    per_night, overall = agreement(conn, find_nights(built["root"]))
    one, two = per_night[N1].to_json(), per_night[N2].to_json()
    # Night 1: R001, R002, R003 finished (R004 is not).
    assert one["calls_reviewed"] == 3
    assert {f: (v["agreed"], v["reviewed"]) for f, v in one["facts"].items()} == {
        "fund_use": (3, 3), "repayment_ability": (2, 3), "collateral_status": (2, 3), "project_progress": (3, 3), "business_condition": (3, 3)}
    assert one["flags_all"] == {"confirmed": 3, "dismissed": 1, "added": 1, "precision": 0.75, "recall": 0.75}
    assert one["flags"]["COLLATERAL_RISK"]["precision"] == 0.0
    # Night 2: R011 (corrected to the same value: agreement), R015.
    assert two["calls_reviewed"] == 2
    assert two["facts"]["project_progress"] == {"reviewed": 2, "agreed": 1, "agreement": 0.5}
    assert two["facts"]["fund_use"]["agreement"] == 1.0
    assert two["flags_all"] == {"confirmed": 1, "dismissed": 0, "added": 1, "precision": 1.0, "recall": 0.5}
    total = overall.to_json()
    assert total["calls_reviewed"] == 5
    assert total["facts"]["repayment_ability"]["agreement"] == 0.8
    assert total["flags_all"] == {"confirmed": 4, "dismissed": 1, "added": 2, "precision": 0.8, "recall": 0.6667}
    assert total["flags"]["FUND_MISUSE"] == {"confirmed": 2, "dismissed": 0, "added": 0, "precision": 1.0, "recall": 1.0}
    assert total["flags"]["PROJECT_RISK"]["recall"] == 0.0

    # The same figures from the command line.
    from pipeline.cli import main

    db = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    assert main(["audit", "stats", "--root", str(built["root"]), "--history", str(db), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["overall"] == total and printed["nights"][N1] == one
    assert main(["audit", "stats", "--root", str(built["root"]), "--history", str(db)]) == 0
    table = capsys.readouterr().out
    assert "0.75 / 0.75" in table and "0.80 / 0.67" in table


def test_overlay_writes_reviewed_copies_and_leaves_the_machine_files(built, conn, tmp_path) -> None:
    from openpyxl import load_workbook

    from pipeline.review.overlay import write_reviewed_outputs

    night = find_nights(built["root"])[N1]
    machine = {p.name: p.read_bytes() for p in (night.out_dir / "calls").glob("*.json")}
    _scripted_review(conn)
    report, xlsx = write_reviewed_outputs(conn, night)
    assert {p.name: p.read_bytes() for p in (night.out_dir / "calls").glob("*.json")} == machine
    page = report.read_text(encoding="utf-8")
    assert "【复核：已上报风险委员会；复核人：wang、zhao；更正：抵押物状态：已出租→完好；抵押物风险：驳回（出租的是另一处商铺）】" in page
    ws = load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["R003"]["复核状态"] == "已上报风险委员会"
    assert "风险标记" in header and "抵押物风险" not in (rows["R003"]["风险标记"] or "")  # dismissed: gone
    assert rows["R003"]["抵押物状态"] == "完好"
    assert "补充" in rows["R001"]["复核更正"] and "其他负债" in rows["R001"]["风险标记"]
    assert rows["R005"]["复核状态"] == "待复核"


def test_export_by_dates_csv_and_xlsx(conn, tmp_path) -> None:
    from openpyxl import load_workbook

    store.record_decision(conn, reviewer="wang", night=N1, call_id="R002", kind="note", after="=HYPERLINK(\"x\")", at="2026-11-30T01:00:00+00:00")
    store.record_decision(conn, reviewer="wang", night=N1, call_id="R002", kind="status", after="已复核", at="2026-12-01T01:00:00+00:00")
    n = store.export_trail(conn, tmp_path / "a.csv", since="2026-12-01", until="2026-12-02", fmt="csv")
    text = (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    assert n == 1 and "已复核" in text and "HYPERLINK" not in text
    assert store.export_trail(conn, tmp_path / "a.xlsx", fmt="xlsx") == 2
    cell = load_workbook(tmp_path / "a.xlsx").active["I2"]
    assert cell.value == "=HYPERLINK(\"x\")" and cell.data_type == "s"  # text, never a formula


def test_retraining_from_simulated_reviews_reports_before_and_after(tmp_path, conn) -> None:
    """Reviewers correct the machine on half of the evaluation calls; the other half scores before/after."""
    from pipeline.facts.classify import load_classifiers
    from pipeline.facts.training import train_all
    from pipeline.review.retrain import REVIEW_WEIGHT, not_worse, retrain_with_reviews
    from pipeline.review.simulate import simulate_reviews, split_halves

    reviewed_half, scored_half = split_halves(list(eval_calls().values()))
    # A small base so the test stays quick: every 12th generated row, the same for before and after.
    lines = (Path(__file__).resolve().parent.parent / "data" / "training" / "utterances.jsonl").read_text(encoding="utf-8").splitlines()
    base = tmp_path / "base" / "utterances.jsonl"
    base.parent.mkdir()
    base.write_text("\n".join(lines[::12]) + "\n", encoding="utf-8")
    installed = tmp_path / "installed"
    train_all(base, installed, cv_folds=0)
    before_files = {p.name: p.read_bytes() for p in installed.iterdir()}
    # Simulated reviews: wherever the machine (the installed models) is wrong on a reviewed call, the reviewer
    # sets the truth and points at the customer's answer that states it; correct facts are confirmed as they are.
    corrections = simulate_reviews(conn, reviewed_half, installed, night=N1, reviewer="wang")
    result = retrain_with_reviews(conn, base_data=base, eval_calls=scored_half, model_dir=installed,
                                  work_dir=tmp_path / "work", reviews_out=tmp_path / "reviews.jsonl")
    report = result.format()
    print(f"\n{corrections} corrections on {len(reviewed_half)} reviewed calls\n{report}")
    assert result.reviewed_rows >= len(reviewed_half)  # every reviewed call states at least one fact
    added = (tmp_path / "work" / "data" / "utterances.jsonl").read_text(encoding="utf-8").count('"source": "review"')
    assert added == result.reviewed_rows * REVIEW_WEIGHT
    assert result.before["calls"] == result.after["calls"] == len(scored_half)
    assert "before" in report and "mean fact accuracy" in report
    after_files = {p.name: p.read_bytes() for p in installed.iterdir()}
    assert result.installed == not_worse(result.before, result.after)
    assert (after_files != before_files) == result.installed  # installed exactly when not worse
    assert (tmp_path / "reviews.jsonl").exists() == result.installed
    if result.installed:
        load_classifiers(installed)  # what was installed loads (hashes and metadata agree)


def test_not_worse_is_the_installation_rule() -> None:
    from pipeline.review.retrain import not_worse

    assert not_worse({"fact_accuracy_mean": 0.8, "flag_recall": 0.9}, {"fact_accuracy_mean": 0.8, "flag_recall": 0.9})
    assert not not_worse({"fact_accuracy_mean": 0.8, "flag_recall": 0.9}, {"fact_accuracy_mean": 0.79, "flag_recall": 1.0})
    assert not not_worse({"fact_accuracy_mean": 0.8, "flag_recall": 0.9}, {"fact_accuracy_mean": 0.9, "flag_recall": 0.8})


def test_recordings_and_summaries_stay_inside_their_folders(built) -> None:
    from pipeline.review.nights import audio_file, load_summary

    night = find_nights(built["root"])[N1]
    assert audio_file(night, {"audio_path": "audio/R001.wav"}) == night.batch_dir / "audio" / "R001.wav"
    assert audio_file(night, {"audio_path": "../../out/2026-11-28/run.json"}) is None
    assert audio_file(night, {"audio_path": "/etc/passwd"}) is None
    assert load_summary(night, "R003")["call_id"] == "R003"
    assert load_summary(night, "../2026-11-29/calls/R011") is None and load_summary(night, "..") is None


def test_reviewers_command(tmp_path, capsys, monkeypatch) -> None:
    import io

    from pipeline.cli import main

    db = str(tmp_path / "h.sqlite")
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
    assert main(["reviewers", "add", "wang", "--role", "supervisor", "--name", "王主管", "--history", db, "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["reviewers", "add", "zhao", "--history", db, "--password-stdin"]) == 2  # too short: refused cleanly
    assert main(["reviewers", "disable", "wang", "--history", db]) == 0
    assert main(["reviewers", "disable", "nobody", "--history", db]) == 2
    capsys.readouterr()
    assert main(["reviewers", "list", "--history", db]) == 0
    assert capsys.readouterr().out.split() == ["wang", "supervisor", "disabled", "王主管"]
