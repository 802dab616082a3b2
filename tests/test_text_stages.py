"""Text stages on hand-written transcripts: negation, question-answer pairing, outcome, compliance, summary."""
from __future__ import annotations

import pytest

from pipeline.analyze import analyze_transcript
from pipeline.facts.extract import is_negated
from pipeline.schema import validate_summary
from pipeline.speech.transcript import Utterance

MANIFEST = {"loan_id": "L-T-1", "borrower_name": "赵六", "loan_purpose": "经营周转", "collateral": "商铺"}


def call(*turns: tuple[str, str], manifest: dict | None = None) -> dict:
    utterances = [
        Utterance(start=4.0 * i, end=4.0 * i + 3.5, speaker=speaker, text=text, raw_text=text, norm_text=text)
        for i, (speaker, text) in enumerate(turns)
    ]
    summary = analyze_transcript(utterances, manifest or MANIFEST, call_id="T1", duration_s=4.0 * len(turns))
    assert validate_summary(summary) == []
    return summary


OPENING = ("agent", "您好，这里是城北农商银行贷后部，通话会录音，请问您是赵六先生本人吗？")


def values(summary: dict) -> dict[str, str]:
    return {fact: decision["value"] for fact, decision in summary["facts"].items()}


def codes(summary: dict) -> set[str]:
    return {flag["code"] for flag in summary["flags"]}


@pytest.mark.parametrize(
    "text, start, negated",
    [
        ("我没有拿去炒股", 5, True),
        ("不是买房，是进货", 2, True),
        ("不是买房，是进货", 6, False),
        ("钱拿去炒股了", 3, False),
    ],
)
def test_negation_scope(text, start, negated):
    assert is_negated(text, start) is negated


def test_negated_misuse_is_not_misuse():
    summary = call(OPENING, ("customer", "是我。"), ("agent", "贷款资金主要用在哪了？"), ("customer", "钱没有拿去炒股，都拿去进原材料了。"))
    assert values(summary)["fund_use"] == "business_operation"
    assert "FUND_MISUSE" not in codes(summary)
    evidence = summary["facts"]["fund_use"]["evidence"][0]
    assert evidence["speaker"] == "customer" and evidence["start"] == 12.0


def test_not_X_but_Y():
    summary = call(OPENING, ("customer", "对。"), ("agent", "钱用在什么地方了？"), ("customer", "不是买房子，是给工人发工资了。"))
    assert values(summary)["fund_use"] == "business_operation"


def test_question_answer_pairing_denial():
    summary = call(OPENING, ("customer", "嗯是我。"), ("agent", "抵押的商铺有没有再抵押给别的机构？"), ("customer", "没有，没有。"))
    assert values(summary)["collateral_status"] == "intact"
    assert "COLLATERAL_RISK" not in codes(summary)


def test_question_answer_pairing_affirm():
    summary = call(OPENING, ("customer", "我是。"), ("agent", "那笔钱是不是拿去炒股了？"), ("customer", "对，有一点。"))
    assert values(summary)["fund_use"] == "securities_investment"
    assert "FUND_MISUSE" in codes(summary)


def test_misheard_and_indirect_statements():
    summary = call(
        OPENING,
        ("customer", "是我是我。"),
        ("agent", "店铺现在什么情况？"),
        ("customer", "铺子租给人家卖水果了，每个月收点租金。"),
        ("agent", "每个月还款怎么样？"),
        ("customer", "说实话现在有点吃力，单子少了一大半。"),
    )
    assert values(summary)["collateral_status"] == "leased"
    assert values(summary)["repayment_ability"] == "strained"
    assert values(summary)["business_condition"] == "declining"
    assert {"COLLATERAL_RISK", "REPAYMENT_RISK", "BUSINESS_DETERIORATION"} <= codes(summary)
    assert summary["risk_level"] == "medium"
    assert "require_additional_guarantee" in summary["actions"]


def test_seizure_raises_collateral_and_litigation():
    summary = call(OPENING, ("customer", "是。"), ("agent", "抵押的商铺还好吗？"), ("customer", "上个月法院来把铺子查封了，跟供货商打官司。"))
    assert values(summary)["collateral_status"] == "seized"
    assert {"COLLATERAL_RISK", "LITIGATION"} <= codes(summary)
    assert summary["risk_level"] == "critical"


def test_refused_to_say():
    summary = call(OPENING, ("customer", "是。"), ("agent", "贷款主要用在什么地方？"), ("customer", "这个不方便说吧，反正按时还你们就行了。"))
    assert values(summary)["fund_use"] == "refused"
    assert "verify_with_documents" in summary["actions"]
    assert "FUND_MISUSE" not in codes(summary)


def test_threatening_agent_without_recording_notice():
    summary = call(
        ("agent", "喂，是赵六吗？"),
        ("customer", "是我，怎么了。"),
        ("agent", "你这个月再不还，就把你拉进黑名单，还要找你单位领导。"),
        ("customer", "你们这样我要去投诉。"),
    )
    compliance = summary["agent_compliance"]
    assert compliance["recording_disclosed"] is False
    assert compliance["prohibited_language"] and compliance["prohibited_language"][0]["type"] == "threat"
    flag = next(f for f in summary["flags"] if f["code"] == "AGENT_NONCOMPLIANCE")
    assert flag["severity"] == "high"
    assert "CUSTOMER_COMPLAINT" in codes(summary)


def test_carrier_message_is_not_connected(lexicon):
    from pipeline.speech.speakers import attribute_mono, echoes_question

    utterances = [Utterance(start=0, end=3, text="您拨打的电话已关机，请稍后再拨。", norm_text="您拨打的电话已关机，请稍后再拨。")]
    attribute_mono(utterances, lexicon)
    assert utterances[0].speaker == "system"
    summary = analyze_transcript(utterances, MANIFEST, call_id="T2", duration_s=3)
    assert summary["call_outcome"] == "not_connected"
    assert codes(summary) == {"CONTACT_FAILED"}
    assert summary["actions"] == ["schedule_callback", "increase_followup_frequency"]
    assert all(d["value"] == "not_mentioned" for d in summary["facts"].values())


def test_misheard_carrier_message_by_sound(lexicon):
    from pipeline.speech.speakers import carrier_kind

    assert carrier_kind("您拨打的号码是空后", lexicon) == "vacant_number"
    assert carrier_kind("您拨打的电话已管机", lexicon) == "power_off"


def test_carrier_message_with_a_confusable_sound_after_its_opening(lexicon):
    """Over a phone line t/p blur: 停机 heard as 评级 still names the message, but only after the
    carrier's opening, and not where the near sound fits no kind or several."""
    from pipeline.speech.speakers import carrier_kind

    assert carrier_kind("您拨打的电话已评级", lexicon) == "suspended"
    assert carrier_kind("您拨打的电话已宽机", lexicon) == "carrier_intro"  # k/g is not a confusion it knows
    assert carrier_kind("我们这边评级还行", lexicon) is None  # no carrier opening: a borrower's words


def test_mono_answer_that_echoes_the_question_is_the_borrowers(lexicon):
    """Whisper ends a hedged answer with ？ (多少有点紧张吧？) and the speaker model reads 紧张 as
    the agent's word; repeating the predicate of an A-not-A question without asking it again is
    the answer, and 多少 before 有点 is a hedge, not a question of number."""
    from pathlib import Path

    from pipeline.facts.classify import load_classifiers
    from pipeline.speech.speakers import attribute_mono, echoes_question

    assert echoes_question("那每月还款会不会紧张？", "多少有点紧张吧？")
    assert echoes_question("生意有没有受影响？", "没受影响")
    assert not echoes_question("那每月还款会不会紧张？", "会不会紧张呢？")  # asked again
    assert not echoes_question("贷款主要用在哪了？", "多少有点紧张吧？")  # no A-not-A question
    texts = ["您好，银行贷后回访，本次通话会录音，请问是纪春明先生吗？", "贷款主要用在哪了？",
             "前阵子付了个定金，剩下的就放着还月供。", "那每月还款会不会紧张？", "多少有点紧张吧？"]
    utterances = [Utterance(start=3.0 * i, end=3.0 * i + 2.5, text=t) for i, t in enumerate(texts)]
    attribute_mono(utterances, lexicon, load_classifiers(Path("models/classifiers")))
    assert [u.speaker for u in utterances] == ["agent", "agent", "customer", "agent", "customer"]


def test_pieces_of_a_carrier_message_beside_it_are_the_carriers(lexicon):
    """Whisper cut 对不起，您拨打的…，请您稍后再播 at its pauses: the pieces beside the message are the carrier's;
    the same words away from any carrier message stay a person's (a borrower says 稍后再打)."""
    from pipeline.speech.speakers import mark_system

    def turns(*spans):
        return [Utterance(start=a, end=b, speaker="unknown", text=t) for a, b, t in spans]

    cut = turns((4.8, 5.4, "对不起，"), (6.0, 8.9, "您所拨叫的号码暂时无法接通。"), (9.3, 10.1, "请您稍后再播。"))
    mark_system(cut, lexicon)
    assert [u.speaker for u in cut] == ["system"] * 3
    apart = turns((0.5, 1.5, "喂，哪位？"), (2.0, 3.0, "对不起，"), (3.4, 4.6, "我开车呢，稍后再打吧。"))
    mark_system(apart, lexicon)
    assert [u.speaker for u in apart] == ["unknown"] * 3
    far = turns((0.0, 2.9, "您拨打的电话暂时无法接通"), (6.0, 7.0, "对不起，"))
    mark_system(far, lexicon)
    assert [u.speaker for u in far] == ["system", "unknown"]


def test_wrong_party():
    summary = call(("agent", "您好，请问是赵六先生吗？我是农商银行的。"), ("customer", "我是他爱人，他出去了不在家。"), ("agent", "好的，那我晚点再打。"))
    assert summary["call_outcome"] == "wrong_party"
    assert "CONTACT_FAILED" in codes(summary)


def test_no_speech_is_not_connected():
    summary = analyze_transcript([], MANIFEST, call_id="T3", duration_s=5)
    assert summary["call_outcome"] == "not_connected"
    assert validate_summary(summary) == []


def test_project_loan_requires_project_topic():
    manifest = dict(MANIFEST, loan_purpose="厂房项目建设")
    summary = call(OPENING, ("customer", "是我。"), ("agent", "贷款用在哪里了？"), ("customer", "都付了工程款。"), manifest=manifest)
    assert "project_progress" in summary["agent_compliance"]["topics_missing"]


def test_summary_is_plain_chinese_from_the_call():
    summary = call(OPENING, ("customer", "是我。"), ("agent", "最近生意怎么样？"), ("customer", "厂子上个月已经停产了，工人都散了。"))
    text = summary["summary_zh"]
    assert "停产停业" in text and "经营恶化" in text
    assert 2 <= text.count("。") <= 6


def test_equipment_loan_spent_on_wages_contradicts_contract():
    manifest = dict(MANIFEST, loan_purpose="设备采购")
    summary = call(OPENING, ("customer", "是我。"), ("agent", "这笔贷款用在哪了？"), ("customer", "先拿去发了工人工资，还交了厂房租金。"), manifest=manifest)
    assert summary["facts"]["fund_use"]["value"] == "business_operation"
    assert summary["facts"]["fund_use"]["matches_contract"] is False
    assert "FUND_MISUSE" in codes(summary)
    general = call(OPENING, ("customer", "是我。"), ("agent", "这笔贷款用在哪了？"), ("customer", "先拿去发了工人工资，还交了厂房租金。"))
    assert general["facts"]["fund_use"]["matches_contract"] is True  # working capital allows wages
    assert "FUND_MISUSE" not in codes(general)


def test_borrower_admits_money_went_elsewhere_than_contract():
    manifest = dict(MANIFEST, loan_purpose="原材料采购")
    summary = call(OPENING, ("customer", "是我。"), ("agent", "钱用到哪了？"), ("customer", "说实话没按合同来，进了一批货，剩下的先周转了。"), manifest=manifest)
    assert summary["facts"]["fund_use"]["matches_contract"] is False


def test_borrower_mentioning_a_switched_off_phone_is_not_a_carrier(lexicon):
    from pipeline.speech.speakers import carrier_kind

    assert carrier_kind("我手机关机了一天，没接到你们电话", lexicon) is None
    assert carrier_kind("银波打的电话与停机。", lexicon) == "suspended"  # misheard 您拨打的电话已停机
    assert carrier_kind("对不起，您拨打的用户正忙", lexicon) == "busy"


def test_telling_a_relative_about_the_debt_is_high_noncompliance():
    summary = call(
        ("agent", "您好，这里是农商银行贷后部，本次通话会录音，请问是赵六吗？"),
        ("customer", "我是他妈妈，他出去了。"),
        ("agent", "您儿子在我们行贷了五十万，利息还没还，您让他赶紧把钱还上。"),
    )
    assert summary["call_outcome"] == "wrong_party"
    assert summary["agent_compliance"]["prohibited_language"][0]["type"] == "third_party_disclosure"
    assert {(f["code"], f["severity"]) for f in summary["flags"]} >= {("CONTACT_FAILED", "medium"), ("AGENT_NONCOMPLIANCE", "high")}


def test_except_clause_is_not_negated_and_hedges_lower_confidence():
    summary = call(OPENING, ("customer", "是我。"), ("agent", "钱都用在哪了？"), ("customer", "我没乱花除了拿一点炒股"))
    assert values(summary)["fund_use"] == "securities_investment"
    sure = call(OPENING, ("customer", "是我。"), ("agent", "每个月还款怎么样？"), ("customer", "下个月还不上了。"))
    hedged = call(OPENING, ("customer", "是我。"), ("agent", "每个月还款怎么样？"), ("customer", "下个月可能还不上了。"))
    assert values(sure)["repayment_ability"] == values(hedged)["repayment_ability"] == "unable"
    assert hedged["facts"]["repayment_ability"]["confidence"] < sure["facts"]["repayment_ability"]["confidence"]


def test_jieba_user_dictionary_comes_from_the_lexicon(lexicon):
    from pipeline.facts.lexicon import jieba_user_dict
    from pipeline.text.normalize import _jieba_freq

    lines = jieba_user_dict(lexicon).splitlines()
    assert "贷后 20000" in lines and "空号 20000" in lines
    assert _jieba_freq()["贷后"] >= 20000


@pytest.mark.parametrize(
    "heard, meant",
    [("这个月的海款有压力", "这个月的还款有压力"), ("我们是戴后回访", "我们是贷后回访"), ("您拨打的号码是空后", "您拨打的号码是空号"),
     ("我想何时一下身份", "我想核实一下身份"), ("底押的房子", "抵押的房子")],
)
def test_misheard_domain_terms_are_corrected_keeping_the_original(lexicon, heard, meant):
    from pipeline.text.normalize import corrector_for

    # a rewrite to a domain term needs the call about a loan when the utterance names none (issue 17)
    corrected, corrections = corrector_for(lexicon).correct(heard, context="您好，这里是农商银行贷后回访")
    assert corrected == meant and corrections
    assert all(heard[c.start : c.end] == c.original for c in corrections)


@pytest.mark.parametrize("real", ["时间合适吗", "我交了社保", "何时方便"])
def test_real_words_are_not_corrected(lexicon, real):
    from pipeline.text.normalize import corrector_for

    assert corrector_for(lexicon).correct(real)[0] == real
