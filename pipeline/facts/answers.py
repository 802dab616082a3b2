"""Reading an answer as a whole: with the question it answers, and across the pauses that cut it.

Why apart from ``extract``: the rules there read one utterance at a time; here
a short answer takes its topic from the agent's question (没有 to 有没有困难),
and a borrower's sentence that Whisper cut at a pause is read across the cut.
Both give ``extract.Match`` objects cited in the answer's own utterance.
"""
from __future__ import annotations

import re

from pipeline.facts.extract import _ASKS_USE, _DENIAL, _QUESTION, NORMAL_VALUE, Match, _match_text, _rules_for, dialect_reading, drop_covered
from pipeline.facts.lexicon import Lexicon
from pipeline.labels import FACTS
from pipeline.speech.transcript import Utterance

_AFFIRM = re.compile(r"^(呃|嗯|哎|唉)?[，,\s]*(有|对|是的|是啊|是|对的|没错|嗯对|确实|有的|有一点|有点)")
_TROUBLE_Q = re.compile(r"困难|压力|吃力|紧张|问题|逾期|影响|下滑|减少|不好|变化|异常|停")
_YES_TO_DEBT = {"有", "有的", "有一点", "有点", "对", "对的", "是的", "嗯对", "确实"}
# The agent's question whose 吗 Whisper wrote as another "ma" (负债卖, 跟上码, 本人慢), or a tag 吧.
_ENDS_AS_ASKED = re.compile(r"[码马卖慢麻吧][。，,.！!？?\s]*$")
# 还好 ("it's fine") but not 还好几个月 / 还好多钱 (还 huan: still to repay several ...).
_FINE_ANSWER = re.compile(r"(没问题|正常|挺好|还行|还好(?![几多久些])|都好|还可以|好好的|在的|还在|没变|没动|照常|稳定|不错)")


def answer_matches(utterances: list[Utterance], lexicon: Lexicon) -> list[Match]:
    """Matches implied by short answers: the agent's question sets the topic, the answer the value."""
    fact_rules = [r for r in lexicon.rules if r.kind in FACTS]
    topic_rules = lexicon.rules_of_kind("topic")
    derived: list[Match] = []
    for index, utt in enumerate(utterances):
        if utt.speaker not in ("agent", "unknown") or not (_QUESTION.search(utt.text) or _ENDS_AS_ASKED.search(utt.text)):
            continue
        topics = {r.value for r in topic_rules if r.pattern.search(utt.text)}
        # A question about other debts is not a question about this loan's use:
        # "有" to "您在别的银行还有贷款吗" says nothing about where this money went.
        if "fund_use" in topics and not _ASKS_USE.search(utt.text):
            topics.discard("fund_use")
        # Only a question on the fact's own topic sets the value a short answer confirms or denies.
        asked = [(r, m) for r in fact_rules if r.kind in topics for m in [r.pattern.search(utt.text)] if m]
        answer_index = index + 1
        while answer_index < len(utterances) and utterances[answer_index].speaker == "system":
            answer_index += 1
        if answer_index >= len(utterances) or utterances[answer_index].speaker not in ("customer", "unknown"):
            continue
        answer = dialect_reading(utterances[answer_index].text.strip())
        denial, affirm = _DENIAL.search(answer), _AFFIRM.search(answer)
        if "other_debt" in topics and affirm and not denial and affirm.group(2) in _YES_TO_DEBT:
            derived.append(Match("answer_other_debt", "signal:OTHER_DEBT", answer_index, affirm.start(2), affirm.end(2), affirm.group(2), False, "answer"))
        for rule, found in asked:
            fact, value = rule.kind, rule.value
            if value == NORMAL_VALUE.get(fact) or value == "refused":
                continue
            if denial:
                derived.append(Match(rule.id, rule.label, answer_index, denial.start(2), denial.end(2), denial.group(2), True, "answer"))
            elif affirm and len(answer) <= 12:
                derived.append(Match(rule.id, rule.label, answer_index, affirm.start(2), affirm.end(2), affirm.group(2), False, "answer"))
        fine = _FINE_ANSWER.search(answer)
        # "没有" to "有没有困难/压力大吗/有没有影响" denies the trouble: the normal value, from the answer.
        if denial and _TROUBLE_Q.search(utt.text):
            for fact in (topics & set(NORMAL_VALUE)) - {"fund_use"}:
                derived.append(Match(f"answer_{fact}_denied", f"{fact}:{NORMAL_VALUE[fact]}", answer_index, denial.start(2), denial.end(2), denial.group(2), False, "answer"))
        if fine and not denial:
            for fact in topics & set(NORMAL_VALUE):
                if fact == "fund_use":
                    continue  # "没问题" does not say where the money went
                derived.append(Match(f"answer_{fact}", f"{fact}:{NORMAL_VALUE[fact]}", answer_index, fine.start(), fine.end(), fine.group(0), False, "answer"))
    return derived


_OTHER_DEBT_Q = re.compile(r"(别的|其他|其它|另外|另一家|别家|外面|其他地方|别的地方|别处).{0,8}(贷款|借款|负债|欠款|借钱|贷|网贷|信用卡)|(有没有|是否有|还有没有|有无).{0,6}(贷款|借款|负债|欠款|网贷|信用卡|外债)")


def other_debt_question(question: str) -> bool:
    """True for a question about the borrower's other debts that does not ask where this loan's money went."""
    return bool(_OTHER_DEBT_Q.search(question)) and not _ASKS_USE.search(question)


# Pauses cut one sentence into two utterances (新开了一家分店，/ 装修花了一部分): a phrase that runs
# across the cut is looked for in the two read together, if the same borrower said both this close.
ACROSS_PAUSE_S = 2.0


def matches_across_pauses(utterances: list[Utterance], matches: list[Match], lexicon: Lexicon) -> list[Match]:
    """``matches`` plus the borrower's phrases that begin in one utterance and end in the next.

    Such a match is cited in the second utterance, from its first character to
    the phrase's end; a reading of another value inside that stretch gives way
    to it, as a shorter match inside a longer one does (``drop_covered``, run
    again only when something was added: ``match_rules`` has already run it).
    """
    rules = _rules_for(lexicon, "customer")
    added: list[Match] = []
    for index in range(1, len(utterances)):
        prev, utt = utterances[index - 1], utterances[index]
        if utt.speaker != "customer" or prev.speaker != "customer" or utt.start - prev.end > ACROSS_PAUSE_S:
            continue
        head = dialect_reading(prev.text)
        if not head or head[-1] in "。！？!?；;":
            continue
        joined = head + dialect_reading(utt.text)
        cut = len(head)
        for m in _match_text(joined, rules, utterances, index):
            if m.start < cut < m.end and m.kind in FACTS:
                m.utterance, m.start, m.end = index, 0, m.end - cut
                m.text = joined[cut:cut + m.end]
                added.append(m)
    if not added:
        return matches
    inside = {(m.utterance, m.kind, m.value, m.end) for m in added}
    kept = [m for m in matches
            if not any(m.utterance == u and m.kind == k and m.value != v and m.end <= e for u, k, v, e in inside)]
    return drop_covered(kept + added)

