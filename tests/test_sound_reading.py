"""Facts said in words Whisper mishears (issue 16): the sound reading, its guards, and its review marker.

Sentences are written for these tests (misheard the way a weak recogniser
writes unknown words: same toneless syllables, other characters), not taken
from the sample or the evaluation set.
"""
from __future__ import annotations

import random

import pytest

from pipeline.analyze import analyze_transcript
from pipeline.facts.extract import match_rules
from pipeline.facts.lexicon import load_lexicon
from pipeline.facts.noise import NoiseRates, asr_like
from pipeline.facts.sound_match import literal_phrases, sound_reading
from pipeline.speech.transcript import Utterance

MANIFEST = {"loan_id": "L-S-1", "borrower_name": "周文斌", "loan_purpose": "经营周转", "collateral": "住宅"}
OPENING = ("agent", "您好，这边是信用社贷后回访，通话会录音，请问是周文斌先生吗？")
USE_Q = ("agent", "贷款下来以后钱用在哪儿了？")


def run(*turns: tuple[str, str]) -> dict:
    utterances = [Utterance(start=4.0 * i, end=4.0 * i + 3.5, speaker=s, text=t, raw_text=t, norm_text=t) for i, (s, t) in enumerate(turns)]
    return analyze_transcript(utterances, MANIFEST, call_id="S1", duration_s=4.0 * len(turns))


def test_literal_phrases_expand_optional_parts_and_skip_particles():
    phrases = literal_phrases("理(了)?(个|一个)?财|浸了|[^，。]{0,4}楼盘")
    assert {"理财", "理了财", "理个财", "理了个财", "理一个财", "楼盘"} <= phrases
    assert "浸了" not in phrases  # one word and a particle: too little to read by sound


@pytest.mark.parametrize("heard, read_as", [
    ("剩下的钱我李乐歌才了", "理了个财"),  # same toneless syllables, unknown word written as a rare string
    ("没有没有，哪感炒股啊", "哪敢"),  # one character, same sound and tone
    ("剩下的放在鸡金里了", "基金"),
    ("房本现在压在点档行那边", "典当行"),  # a word of a long rule (co_repledge), found beside its many alternatives
])
def test_misheard_phrase_is_read_by_sound(heard, read_as):
    reading, spans = sound_reading(heard, load_lexicon())
    assert len(reading) == len(heard)
    assert read_as in reading and [s.read_as for s in spans] == [read_as]


@pytest.mark.parametrize("heard", [
    "主要是买了一辆送货的车",  # 买 is no 卖: a tone pair is another word said right
    "房间里有电脑，条件还行",  # a common word is not read as another (电脑 is no 点难)
    "我们一直在用这台机器",  # a near syllable alone is no misheard word (在用 is no 自用)
    "今天进了一批货",  # 进了 sounds like 浸了, but a particle and one word are too little
])
def test_ordinary_words_are_not_read_as_domain_phrases(heard):
    assert sound_reading(heard, load_lexicon())[1] == ()


def test_fact_read_by_sound_keeps_heard_words_and_goes_to_review():
    summary = run(OPENING, ("customer", "是我。"), USE_Q, ("customer", "一部分进了货，剩下的钱我李乐歌才了。"))
    fund = summary["facts"]["fund_use"]
    assert fund["value"] == "securities_investment"
    assert fund["needs_review"] and "by_sound" in fund["review_reasons"]
    assert "李乐歌才" in fund["evidence"][0]["text"]  # the evidence cites what was heard
    terms = [t for u in summary["transcript"] for t in u["terms"] if t.get("by_sound")]
    assert terms and terms[0]["text"] != terms[0]["read_as"] and "理了个财" in terms[0]["read_as"]


def test_negation_heard_wrong_is_read_by_sound():
    utterances = [Utterance(start=0.0, end=2.0, text="钱拿去炒股了吗？", speaker="agent"), Utterance(start=2.0, end=4.0, text="哪感炒股啊，都投在厂里了。", speaker="customer")]
    stock = [m for m in match_rules(utterances, load_lexicon()) if m.label == "fund_use:securities_investment"]
    assert stock and all(m.negated and m.by_sound for m in stock)


def test_match_on_corrected_words_is_marked():
    utt = Utterance(start=0.0, end=2.0, text="钱都拿去炒股了。", speaker="customer", raw_text="钱都拿去吵鼓了。",
                    corrections=[{"start": 4, "end": 6, "original": "吵鼓", "corrected": "炒股"}])
    stock = [m for m in match_rules([utt], load_lexicon()) if m.label == "fund_use:securities_investment"]
    assert stock and stock[0].by_sound


def test_plain_words_win_over_the_sound_reading():
    summary = run(OPENING, ("customer", "是我。"), USE_Q, ("customer", "都买了原材料，生意还行。"))
    assert summary["facts"]["fund_use"]["value"] == "business_operation"
    assert "by_sound" not in summary["facts"]["fund_use"]["review_reasons"]


def test_noise_is_seeded_and_changes_text():
    text = "钱基本都花在铺子里了，换了两台冷柜，又压了些货。"
    first = asr_like(text, random.Random(7), NoiseRates(same_sound=0.5))
    assert first == asr_like(text, random.Random(7), NoiseRates(same_sound=0.5))
    assert first != text and "，" in first


def test_an_agents_misheard_recording_notice_still_counts():
    """录音 heard with the same syllables in other characters (陆音) is a disclosure, marked ``by_sound``."""
    summary = run(("agent", "您好，这里是信用社贷后回访，本次通话会陆音，请问是周文斌先生吗？"), ("customer", "是我，你说。"),
                  USE_Q, ("customer", "钱都拿去进货了，店里生意还行。"))
    assert summary["agent_compliance"]["recording_disclosed"] is True
    assert not [f for f in summary["flags"] if f["code"] == "AGENT_NONCOMPLIANCE"]


def test_only_the_agents_duties_are_read_by_sound():
    """Prohibited words are never read into an agent's turn by sound, and a real word is never re-read."""
    lexicon = load_lexicon()
    for text in ("我们走这条路因为近一点。", "您那边现在沙情况？"):
        found = match_rules([Utterance(start=0.0, end=2.0, speaker="agent", text=text)], lexicon)
        assert not [m for m in found if m.label.startswith("agent:") and m.by_sound], [(m.rule_id, m.text) for m in found]


@pytest.mark.parametrize("text, insult", [("那边现在傻情况？", False), ("傻事别干了，先把账对一下", False),
                                          ("你是傻子吗", True), ("你傻不傻", True), ("别跟我装傻", True)])
def test_sha_is_an_insult_only_in_insulting_forms(text, insult):
    """Over the phone 啥 (what) is heard as 傻: only 傻子, 你傻, 装傻 ... accuse the agent."""
    found = match_rules([Utterance(start=0.0, end=2.0, speaker="agent", text=text)], load_lexicon())
    assert any(m.value == "insult" for m in found) is insult


def test_readings_are_kept_between_processes_and_a_bad_cache_is_ignored(tmp_path, monkeypatch):
    """pypinyin's readings of the index phrases come back from the cache file, equal to computing them."""
    from pypinyin import Style, lazy_pinyin

    from pipeline.text import readings

    monkeypatch.setenv("HUIFANG_CACHE", str(tmp_path))
    monkeypatch.setattr(readings, "_table", None)
    monkeypatch.setattr(readings, "_added", 0)
    words = ["理了个财", "抵押", "还款", "重庆", "行长"]
    computed = {w: tuple(lazy_pinyin(w, style=Style.TONE3, neutral_tone_with_five=True)) for w in words}
    assert {w: readings.toned(w) for w in words} == computed
    readings.save()
    path = readings.cache_path()
    assert path is not None and path.parent == tmp_path and path.is_file()

    monkeypatch.setattr(readings, "_table", None)  # a new process
    assert readings._load() == {w: list(r) for w, r in computed.items()}
    assert {w: readings.toned(w) for w in words} == computed and readings._added == 0

    path.write_text("{not json")
    monkeypatch.setattr(readings, "_table", None)
    assert readings.toned("抵押") == computed["抵押"]  # computed again, no error
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("HUIFANG_CACHE", str(blocked / "cache"))  # a cache folder that cannot be made
    readings.toned("回访")
    readings.save()  # nothing written, nothing raised
    assert blocked.is_file() and readings.cache_path().parent == blocked / "cache"


def test_every_fact_rule_has_phrases_to_hear():
    """A rule of many alternatives once expanded past the cap and lost all of them (典当, 二押, 断供 never heard)."""
    lexicon = load_lexicon()
    kinds = ("fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition")
    silent = [r.id for r in lexicon.rules if r.kind in kinds and r.value != "not_mentioned" and not literal_phrases(r.pattern.pattern)]
    assert silent == []
    repledge = next(r for r in lexicon.rules if r.id == "co_repledge")
    assert {"典当", "二押", "典当行"} <= literal_phrases(repledge.pattern.pattern)


@pytest.mark.parametrize("heard, kept", [
    ("您好，银行贷后回访，本次普通话录音，请问是", "您好，银行贷后回访，本次通话录音，请问是"),
    ("普通话将进行录音。", "通话将进行录音。"),
    ("我们这边普通话不太好", "我们这边普通话不太好"),  # 普通话 said, no notice after it
])
def test_the_prompts_putonghua_is_taken_out_of_the_recording_notice(heard, kept):
    from pipeline.speech.guards import prompt_word_in_notice

    assert prompt_word_in_notice(heard, "以下是普通话的句子。") == kept
    assert prompt_word_in_notice(heard, None) == heard  # no prompt, nothing it could have put there
