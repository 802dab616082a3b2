"""Contract v2: credit and conduct apart, FUND_MISUSE by loan type, identity check, needs_review, v1 inputs read."""
from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest

from pipeline.analyze import analyze_transcript
from pipeline.labels import CONDUCT_FLAGS, CREDIT_FLAGS, LOAN_TYPES, SCHEMA_VERSION
from pipeline.judgement.risk import Flag, actions_for, conduct_level, fact_flags, loan_type, matches_contract, risk_level
from pipeline.schema import validate_summary
from pipeline.speech.transcript import Utterance

# --- risk_level and conduct_level: every flag combination -------------------------------------

# The severities the contract's flag table allows for each code.
ALLOWED = {
    "CONTACT_FAILED": ("medium",),
    "FUND_MISUSE": ("high",),
    "REPAYMENT_RISK": ("medium", "high"),
    "COLLATERAL_RISK": ("medium", "high"),
    "PROJECT_RISK": ("medium", "high"),
    "BUSINESS_DETERIORATION": ("medium", "high"),
    "OTHER_DEBT": ("medium",),
    "LITIGATION": ("high",),
    "INFO_CHANGED": ("medium",),
    "CUSTOMER_COMPLAINT": ("medium",),
    "AGENT_NONCOMPLIANCE": ("medium", "high"),
}


def contract_risk(flags: dict[str, str]) -> str:
    """The contract's risk_level sentence, transcribed clause by clause."""
    credit = {c: s for c, s in flags.items() if c in CREDIT_FLAGS}
    highs = [c for c, s in credit.items() if s == "high"]
    if not credit:
        return "low"
    if len(highs) >= 2:
        return "critical"
    if "FUND_MISUSE" in credit and len(credit) >= 2:
        return "critical"
    if "REPAYMENT_RISK" in credit and any(c != "REPAYMENT_RISK" for c in highs):
        return "critical"
    return "high" if highs else "medium"


def contract_conduct(flags: dict[str, str]) -> str:
    conduct = [s for c, s in flags.items() if c in CONDUCT_FLAGS]
    return "high" if "high" in conduct else "medium" if conduct else "none"


def every_combination():
    options = [[None, *severities] for severities in ALLOWED.values()]
    for choice in itertools.product(*options):
        yield {code: sev for code, sev in zip(ALLOWED, choice) if sev is not None}


def as_flags(combo: dict[str, str]) -> list[Flag]:
    return [Flag(code, severity, "") for code, severity in combo.items()]


def test_every_flag_combination_follows_the_contract():
    count = 0
    for combo in every_combination():
        flags = as_flags(combo)
        level, conduct = risk_level(flags), conduct_level(flags)
        assert level == contract_risk(combo), combo
        assert conduct == contract_conduct(combo), combo
        actions = actions_for(flags, level, "not_mentioned", 0.9)
        assert ("escalate_to_risk_committee" in actions) == (level in ("high", "critical")), combo
        assert ("review_agent_conduct" in actions) == ("AGENT_NONCOMPLIANCE" in combo), combo
        assert ("handle_complaint" in actions) == ("CUSTOMER_COMPLAINT" in combo), combo
        assert ("increase_followup_frequency" in actions) == (level == "medium"), combo
        count += 1
    assert count == 2**6 * 3**5


def test_no_conduct_flag_changes_risk_or_escalates():
    """Adding any conduct flags to any set of credit flags leaves risk_level and every credit action as they were."""
    credit_only = [c for c in every_combination() if not set(c) & set(CONDUCT_FLAGS)]
    conduct_sets = [c for c in every_combination() if not set(c) & set(CREDIT_FLAGS)]
    for credit in credit_only:
        base_level = risk_level(as_flags(credit))
        base_actions = actions_for(as_flags(credit), base_level, "not_mentioned", 0.9)
        for conduct in conduct_sets:
            flags = as_flags({**credit, **conduct})
            level = risk_level(flags)
            assert level == base_level
            actions = actions_for(flags, level, "not_mentioned", 0.9)
            assert [a for a in actions if a not in ("review_agent_conduct", "handle_complaint")] == base_actions
        if not credit:
            for conduct in conduct_sets:
                flags = as_flags(conduct)
                assert "escalate_to_risk_committee" not in actions_for(flags, risk_level(flags), "not_mentioned", 0.9)


# Hand-written rows: the combinations at which a level changes, read off the contract.
@pytest.mark.parametrize(
    "flags, risk, conduct",
    [
        ({}, "low", "none"),
        ({"AGENT_NONCOMPLIANCE": "high"}, "low", "high"),
        ({"AGENT_NONCOMPLIANCE": "medium"}, "low", "medium"),
        ({"CUSTOMER_COMPLAINT": "medium"}, "low", "medium"),
        ({"CUSTOMER_COMPLAINT": "medium", "AGENT_NONCOMPLIANCE": "high"}, "low", "high"),
        ({"CONTACT_FAILED": "medium", "AGENT_NONCOMPLIANCE": "high"}, "medium", "high"),
        ({"REPAYMENT_RISK": "medium", "AGENT_NONCOMPLIANCE": "high"}, "medium", "high"),
        ({"FUND_MISUSE": "high", "AGENT_NONCOMPLIANCE": "medium"}, "high", "medium"),
        ({"FUND_MISUSE": "high", "CUSTOMER_COMPLAINT": "medium"}, "high", "medium"),
        ({"FUND_MISUSE": "high", "OTHER_DEBT": "medium"}, "critical", "none"),
        ({"REPAYMENT_RISK": "medium", "LITIGATION": "high"}, "critical", "none"),
        ({"REPAYMENT_RISK": "high", "OTHER_DEBT": "medium"}, "high", "none"),
        ({"LITIGATION": "high", "COLLATERAL_RISK": "high", "AGENT_NONCOMPLIANCE": "high"}, "critical", "high"),
        ({"OTHER_DEBT": "medium", "INFO_CHANGED": "medium"}, "medium", "none"),
    ],
)
def test_level_table(flags, risk, conduct):
    assert (risk_level(as_flags(flags)), conduct_level(as_flags(flags))) == (risk, conduct)


def test_actions_in_contract_order_with_conduct_actions_last():
    flags = as_flags({"CONTACT_FAILED": "medium", "COLLATERAL_RISK": "high", "CUSTOMER_COMPLAINT": "medium", "AGENT_NONCOMPLIANCE": "high"})
    assert actions_for(flags, risk_level(flags), "refused", 0.9) == [
        "schedule_callback", "verify_with_documents", "require_additional_guarantee", "escalate_to_risk_committee",
        "review_agent_conduct", "handle_complaint"]


# --- FUND_MISUSE by loan type -----------------------------------------------------------------

USES = ("business_operation", "consumption", "real_estate", "securities_investment", "repay_other_debt", "lend_to_others", "refused", "not_mentioned")


@pytest.mark.parametrize(
    "purpose, kind, proper",
    [
        ("个人消费", "consumer", "consumption"),
        ("购车", "consumer", "consumption"),
        ("房屋装修", "renovation", "consumption"),
        ("经营周转", "business", "business_operation"),
        ("流动资金", "business", "business_operation"),
        ("设备采购", "equipment", "business_operation"),
        ("项目建设", "project", "business_operation"),
        ("农业种植", "agricultural", "business_operation"),
        ("养殖场扩栏", "agricultural", "business_operation"),
        ("大学生创业", "start-up", "business_operation"),
        ("", "business", "business_operation"),  # no purpose: the fallback
        ("其他", "business", "business_operation"),  # a purpose no word places: the fallback
    ],
)
def test_fund_misuse_follows_loan_type(purpose, kind, proper):
    assert loan_type(purpose) == kind
    for use in USES:
        facts = {f: {"value": "not_mentioned", "evidence_idx": []} for f in ("fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition")}
        facts["fund_use"] = {"value": use, "evidence_idx": [], "matches_contract": matches_contract(use, purpose)}
        raised = any(f.code == "FUND_MISUSE" for f in fact_flags(facts, "connected", purpose))
        expected = use not in ("refused", "not_mentioned") and use != proper
        assert raised is expected, (purpose, use)
        # matches_contract says the same thing as the flag
        assert facts["fund_use"]["matches_contract"] is (None if use in ("refused", "not_mentioned") else not expected), (purpose, use)


def test_every_loan_type_is_tested():
    placed = {loan_type(p) for p in ("个人消费", "房屋装修", "经营周转", "设备采购", "项目建设", "农业种植", "大学生创业")}
    assert placed == set(LOAN_TYPES)


# --- whole calls ------------------------------------------------------------------------------

MANIFEST = {"loan_id": "L-V2-1", "borrower_name": "赵六", "loan_purpose": "经营周转", "collateral": "无"}


def call(*turns: tuple[str, str], manifest: dict | None = None) -> dict:
    utterances = [Utterance(start=4.0 * i, end=4.0 * i + 3.5, speaker=s, text=t, raw_text=t, norm_text=t) for i, (s, t) in enumerate(turns)]
    summary = analyze_transcript(utterances, manifest or MANIFEST, call_id="V1", duration_s=4.0 * len(turns))
    assert validate_summary(summary) == []
    return summary


def test_threatening_agent_does_not_make_a_good_borrower_a_credit_risk():
    summary = call(
        ("agent", "是赵六吗？我是城北银行的，通话有录音。你这个月再不还，就把你拉进黑名单，还要找你单位领导。"),
        ("customer", "我每个月都按时还的，一直没逾期，你们这样我要去投诉。"),
    )
    codes = {f["code"] for f in summary["flags"]}
    assert "AGENT_NONCOMPLIANCE" in codes and "CUSTOMER_COMPLAINT" in codes
    assert summary["risk_level"] == "low"
    assert summary["conduct_level"] == "high"
    assert "escalate_to_risk_committee" not in summary["actions"]
    assert "increase_followup_frequency" not in summary["actions"]
    assert summary["actions"][-2:] == ["review_agent_conduct", "handle_complaint"]
    text = summary["summary_zh"]
    assert text.index("风险等级为低") < text.index("通话规范：") and "威胁客户" in text and "通话行为等级为高" in text


def test_consumer_loan_spent_on_a_car_is_no_misuse():
    opening = ("agent", "您好，城北银行贷后回访，本次通话将被录音。请问是赵六先生本人吗？")
    turns = (opening, ("customer", "是我。"), ("agent", "贷款主要用在哪了？"), ("customer", "去年提了辆车，还有一部分拿去装修了。"))
    consumer = call(*turns, manifest=dict(MANIFEST, loan_purpose="个人消费"))
    assert consumer["facts"]["fund_use"]["value"] == "consumption"
    assert consumer["facts"]["fund_use"]["matches_contract"] is True
    assert "FUND_MISUSE" not in {f["code"] for f in consumer["flags"]}
    business = call(*turns)
    assert business["facts"]["fund_use"]["matches_contract"] is False
    assert "FUND_MISUSE" in {f["code"] for f in business["flags"]}
    assert all(isinstance(fact["needs_review"], bool) for fact in business["facts"].values())
    assert business["schema_version"] == SCHEMA_VERSION == 2


# --- identity check and recording notice (agent rules) ------------------------------------------


def compliance_of(agent_text: str, name: str = "赵六") -> dict:
    summary = call(("agent", agent_text), ("customer", "嗯，是我，你说吧。"), ("agent", "贷款用在哪了？"), ("customer", "都用在店里进货了。"),
                   manifest=dict(MANIFEST, borrower_name=name))
    return summary["agent_compliance"]


@pytest.mark.parametrize(
    "text, verified",
    [
        ("您好，请问是赵六先生吗？", True),
        ("喂，是赵六本人吗？", True),
        ("您是赵先生吗？我这边是城北银行的。", True),
        ("请问您是哪位？", True),
        ("请问是城北建材公司的赵经理吗？", True),
        ("您好，麻烦您报一下身份证后四位。", True),
        ("跟您核实一下，证件后四位是多少？", True),  # the digits asked for, whatever the document is called
        ("您尾号六位数字说一下。", True),
        ("跟您核对一下出生日期。", True),
        ("您在我行预留的手机号是多少？", True),
        ("喂，是赵六吗？", True),
        ("请问是赵六本人吧？", True),
        ("赵六是吧？我是城北银行的，你这个月还款怎么又拖了？", False),  # presumed, not asked
        ("您好，赵总，我是城北银行贷后部的小王。", False),
        ("赵总您好，跟您回访一下贷款的情况。", False),
        ("您好，赵六，我是城北银行的。", False),
        ("您这个月后四位数的利息已经扣了。", False),
    ],
)
def test_identity_verified_per_contract(text, verified):
    assert compliance_of(text)["identity_verified"] is verified


@pytest.mark.parametrize(
    "text, disclosed",
    [
        ("您好，我们这边会录音留档。", True),
        ("提醒您，通话会被录音。", True),
        ("本次通话全程录音。", True),
        ("通话内容我们会存档备查。", True),
        ("这个电话我们是录了音的。", True),  # 录音 split by 了, as people say it
        ("咱们这通电话会录下来哈。", True),
        ("您好，我是城北银行贷后部的。", False),
    ],
)
def test_recording_notice_phrasings(text, disclosed):
    assert compliance_of(text)["recording_disclosed"] is disclosed


# --- schema validation --------------------------------------------------------------------------


def test_validation_checks_conduct_level_and_needs_review():
    summary = call(("agent", "您好，通话有录音，请问是赵六本人吗？"), ("customer", "是我，每个月都按时还款。"))
    assert validate_summary(summary) == []
    bad = json.loads(json.dumps(summary))
    del bad["facts"]["repayment_ability"]["needs_review"]
    bad["conduct_level"] = "high"
    problems = validate_summary(bad)
    assert "facts.repayment_ability.needs_review missing" in problems
    assert any(p.startswith("conduct_level 'high' does not follow") for p in problems)
    old = dict(summary, schema_version=1)
    assert "schema_version 1" in validate_summary(old)

