"""Who said what: carrier messages, the agent's channel, and speaker attribution on mono.

Two-channel recordings: each channel is one party; the agent's channel comes
from the manifest or is detected from what is said on it. Mono recordings:
each utterance gets a text score (agent cues vs borrower cues), smoothed with
the turn-taking of a phone call (forward-backward over two states); an
utterance whose posterior is not clear stays ``unknown``.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from pipeline.facts.lexicon import Lexicon
from pipeline.speech.transcript import Utterance

_CJK = re.compile(r"[\u4e00-\u9fff]")
# 多少 asks a number, except as a hedge (多少有点紧张: "somewhat").
_QUESTION = re.compile(r"[吗嘛么呢？?]|有没有|是不是|是否|能不能|会不会|怎么样|多少(?!有点|有些|还|也|会|能)|什么|哪")
# An answer's openings: yes/no words (有 covers 有点), and a hedge or degree word that grades what was
# asked (多少有点, 还行, 一般, 不太…): agents ask, they do not open a sentence by grading.
_CUSTOMER_CUES = re.compile(
    r"^(嗯|对|是的?|没有|没|不是|有|行|可以|喂|多少有|还行|还好|还凑合|凑合|一般般?|马马虎虎|不太|不怎么|不大)"
    r"|我们?(家|厂|店|公司|这边)|我(的|自己)"
)
# Posterior below this stays "unknown": we never invent certainty.
MIN_SPEAKER_POSTERIOR = 0.6
# Probability that the speaker changes across a pause, by pause length: longer
# pauses more often mark a turn (sample batch: median 0.26 s within a turn,
# 0.52 s between turns), kept soft so that the words can overrule it.
def p_switch(gap_s: float) -> float:
    if gap_s < 0.25:
        return 0.3
    if gap_s < 0.45:
        return 0.5
    return 0.7


# How the rule cues and the speaker model's log-odds add up in the emission.
RULE_WEIGHT = 0.5
MODEL_WEIGHT = 1.0
# The speaker model was trained on whole clean turns and is overconfident on ASR text and on
# fragments (好的 alone scored -4.3, though agents say it as often as borrowers): its log-odds are
# capped at ±2 (p ≈ 0.88), and at ±(Chinese characters / 2) for short utterances.
MODEL_CLIP = 2.0
MODEL_CLIP_PER_CHAR = 0.5
MODEL_CLIP_MIN = 0.5
VOICE_WEIGHT = 1.0
# The voice model is fitted again on the posteriors words and voice give together: seeds the
# words got wrong (a borrower's 什么事 read as the agent's question) drop out of the second fit.
VOICE_PASSES = 2

# A question is usually answered by the other party.
P_ANSWER_AFTER_QUESTION = 0.85


# A yes/no question of the A-not-A form (会不会紧张, 有没有影响) is answered by saying A or its
# predicate again (有点紧张, 没影响): a sentence that echoes the predicate just asked, without
# asking it again, is the other party's answer, even when the speaker model reads 紧张 as the agent's.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1([\u4e00-\u9fff]{2})")
_ASKS_AGAIN = re.compile(r"([\u4e00-\u9fff])[不没]\1|[吗嘛么]")
ECHO_WEIGHT = 1.5


def echoes_question(question: str, text: str) -> bool:
    """``text`` repeats the predicate of an A-not-A question in ``question`` without asking it."""
    asked = _A_NOT_A.findall(question[-12:])
    return bool(asked) and not _ASKS_AGAIN.search(text) and any(predicate in text for _verb, predicate in asked)


def transition(prev: Utterance, nxt: Utterance) -> tuple[float, float]:
    """(P(agent→customer), P(customer→agent)) between two consecutive utterances."""
    switch = p_switch(nxt.start - prev.end)
    if _QUESTION.search(prev.text[-6:]):
        return max(switch, P_ANSWER_AFTER_QUESTION), switch
    return switch, switch


# Consecutive utterances of one speaker closer than this are shown as one turn.
MERGE_GAP_S = 0.6


@lru_cache(maxsize=1)
def _pinyin():
    from pypinyin import lazy_pinyin

    return lazy_pinyin


def toneless_pinyin(text: str) -> str:
    return " ".join(s for s in _pinyin()(re.sub(r"[^\u4e00-\u9fff]", "", text)))


# A carrier message is short; a long utterance that mentions 关机 is a person talking.
CARRIER_MAX_CHARS = 40
_SHORT_CARRIER_CHARS = 12


def _has_key(sound: str, key: str) -> bool:
    return re.search(rf"(^|\s){re.escape(key)}(\s|$)", sound) is not None


def _has_near_key(sound: str, key: str) -> bool:
    """``key``'s syllables in a row in ``sound``, each the same or close (text.sounds), at least one the same."""
    from pipeline.text.sounds import syllables_close

    heard, wanted = sound.split(), key.split()
    for i in range(len(heard) - len(wanted) + 1):
        window = heard[i : i + len(wanted)]
        if all(syllables_close(h, w) for h, w in zip(window, wanted)) and any(h == w for h, w in zip(window, wanted)):
            return True
    return False


def carrier_kind(text: str, lexicon: Lexicon) -> str | None:
    """The kind of carrier/system message in ``text`` (by its words, or by sound when misheard), else None.

    By sound, a kind's pinyin keys count only when the utterance also sounds
    like a carrier's opening (您拨打的电话…) or is very short, so 关机 in a
    borrower's sentence is not a carrier message.
    """
    compact = re.sub(r"\s+", "", text)
    if len(compact) > CARRIER_MAX_CHARS:
        return None
    sound = toneless_pinyin(compact)
    intro = lexicon.carrier_intro
    sounds_like_carrier = any(p in compact for p in intro.get("phrases", ())) or any(_has_key(sound, k) for k in intro.get("keys", ()))
    for message in lexicon.carrier_messages:
        if any(p in compact for p in message["phrases"]):
            return message["kind"]
        if (sounds_like_carrier or len(compact) <= _SHORT_CARRIER_CHARS) and any(_has_key(sound, k) for k in message["keys"]):
            return message["kind"]
    if sounds_like_carrier:
        # The carrier's few fixed sentences over a phone line: after its opening, a key heard with
        # a confusable sound (停机 as 评计, t/p) still names the message, when only one kind fits.
        near = {m["kind"] for m in lexicon.carrier_messages if any(_has_near_key(sound, k) for k in m["keys"])}
        if len(near) == 1:
            return near.pop()
    if any(p in compact for p in intro.get("phrases", ())):
        return "carrier_intro"
    return None


def _rule_hits(text: str, lexicon: Lexicon, kinds: tuple[str, ...]) -> float:
    return sum(rule.weight for rule in lexicon.rules if rule.kind in kinds and rule.pattern.search(text))


def agent_score(text: str, lexicon: Lexicon) -> float:
    """Positive when the words sound like the bank's agent, negative like the borrower."""
    score = 1.5 * _rule_hits(text, lexicon, ("role", "agent", "topic"))
    if _QUESTION.search(text):
        score += 1.5
    customer_hits = sum(
        1 for rule in lexicon.rules if rule.scope == "customer" and rule.kind not in ("topic", "role") and rule.pattern.search(text)
    )
    score -= 1.0 * customer_hits
    if _CUSTOMER_CUES.search(text):
        score -= 1.0
    return score


# A carrier message cut at its pauses: a short piece right beside a recognised one is the carrier's
# too when it sounds like part of one (对不起，| 请您稍后再播: the keys of carrier_intro, its
# piece_keys, or a message's keys). Alone such a piece proves nothing: a borrower says 稍后再打.
CARRIER_PIECE_GAP_S = 1.5


def mark_system(utterances: list[Utterance], lexicon: Lexicon) -> None:
    for utt in utterances:
        if carrier_kind(utt.text, lexicon):
            utt.speaker = "system"
            utt.speaker_confidence = 0.9
    changed = True
    while changed:
        changed = False
        for index, utt in enumerate(utterances):
            if utt.speaker == "system" or not _carrier_piece(utt.text, lexicon):
                continue
            beside = [u for u in utterances[max(0, index - 1):index + 2] if u is not utt and u.speaker == "system"]
            if any(min(abs(u.start - utt.end), abs(utt.start - u.end)) < CARRIER_PIECE_GAP_S for u in beside):
                utt.speaker, utt.speaker_confidence, changed = "system", 0.8, True


def _carrier_piece(text: str, lexicon: Lexicon) -> bool:
    compact = re.sub(r"\s+", "", text)
    if not compact or len(compact) > _SHORT_CARRIER_CHARS:
        return False
    if "sorry" in compact.lower():
        return True
    sound = toneless_pinyin(compact)
    intro = lexicon.carrier_intro
    keys = list(intro.get("keys", ())) + list(intro.get("piece_keys", ())) + [k for m in lexicon.carrier_messages for k in m["keys"]]
    return any(_has_key(sound, k) for k in keys)


def detect_agent_channel(by_channel: dict[str, list[Utterance]], lexicon: Lexicon) -> tuple[str, float]:
    """Pick the channel that sounds like the agent; also favours the channel that speaks first."""
    scores = {}
    for channel, utts in by_channel.items():
        speech = [u for u in utts if u.speaker != "system"]
        total = sum(agent_score(u.text, lexicon) for u in speech)
        scores[channel] = total / max(1, len(speech)) ** 0.5
    firsts = {ch: min((u.start for u in utts if u.speaker != "system"), default=math.inf) for ch, utts in by_channel.items()}
    opener = min(firsts, key=firsts.get)
    scores[opener] += 1.0
    ranked = sorted(scores, key=scores.get, reverse=True)
    margin = scores[ranked[0]] - scores[ranked[1]] if len(ranked) > 1 else 0.0
    return ranked[0], 1 / (1 + math.exp(-margin))


def attribute_two_channel(by_channel: dict[str, list[Utterance]], agent_channel: str | None, lexicon: Lexicon) -> tuple[list[Utterance], str, str]:
    """Label each channel's utterances and merge them by time. Returns (utterances, agent channel, how)."""
    for utts in by_channel.values():
        mark_system(utts, lexicon)
    if agent_channel in by_channel:
        how, confidence = "manifest", 1.0
    else:
        agent_channel, confidence = detect_agent_channel(by_channel, lexicon)
        how = "detected"
    merged: list[Utterance] = []
    for channel, utts in by_channel.items():
        for utt in utts:
            if utt.speaker != "system":
                utt.speaker = "agent" if channel == agent_channel else "customer"
                utt.speaker_confidence = confidence
            merged.append(utt)
    merged.sort(key=lambda u: (u.start, u.end))
    return merged, agent_channel, how


def _speaker_model_logits(texts: list[str], classifiers) -> list[float]:
    """log-odds of "agent" from the trained speaker model, or zeros when none is shipped."""
    if classifiers is None or "speaker" not in getattr(classifiers, "models", {}):
        return [0.0] * len(texts)
    from pipeline.facts.classify import make_input

    logits = []
    for _value, _prob, dist in classifiers.predict("speaker", [make_input("", t) for t in texts]):
        p = min(max(dist.get("agent", 0.5), 1e-3), 1 - 1e-3)
        logits.append(math.log(p / (1 - p)))
    return logits


def attribute_mono(utterances: list[Utterance], lexicon: Lexicon, classifiers=None, samples=None, voice_of=None) -> list[Utterance]:
    """Attribute mono utterances to agent/customer by their words (rules and the speaker model) and turn-taking.

    With the call's ``samples`` (or ``voice_of``, an utterance's voice frames kept
    from audio no longer in memory), a second pass adds the voice (see voice.py):
    how the utterances the words attributed confidently sound says which voice is whose.
    """
    mark_system(utterances, lexicon)
    speech = [u for u in utterances if u.speaker != "system"]
    if not speech:
        return utterances
    text_scores = []
    model_logits = _speaker_model_logits([u.text for u in speech], classifiers)
    for index, utt in enumerate(speech):
        clip = min(MODEL_CLIP, max(MODEL_CLIP_MIN, MODEL_CLIP_PER_CHAR * len(_CJK.findall(utt.text))))
        score = RULE_WEIGHT * agent_score(utt.text, lexicon) + MODEL_WEIGHT * max(-clip, min(clip, model_logits[index]))
        if index == 0:
            score += 1.0  # the agent places the call and speaks first
        elif echoes_question(speech[index - 1].text, utt.text):
            score -= ECHO_WEIGHT
        text_scores.append(score)
    switches = [transition(a, b) for a, b in zip(speech, speech[1:])]
    posteriors = _forward_backward([_emission(s) for s in text_scores], switches)
    if samples is not None or voice_of is not None:
        from pipeline.speech.voice import utterance_voice, voice_log_odds

        voices = [utterance_voice(samples, u.start, u.end) if samples is not None else voice_of(u) for u in speech]
        for _ in range(VOICE_PASSES):
            odds = voice_log_odds(voices, [p for p, _ in posteriors])
            if odds is None:
                break
            scores = [s + VOICE_WEIGHT * o for s, o in zip(text_scores, odds)]
            posteriors = _forward_backward([_emission(s) for s in scores], switches)
    for utt, (p_agent, p_customer) in zip(speech, posteriors):
        best = max(p_agent, p_customer)
        utt.speaker_confidence = best
        if best < MIN_SPEAKER_POSTERIOR:
            utt.speaker = "unknown"
        else:
            utt.speaker = "agent" if p_agent > p_customer else "customer"
    return utterances


def _emission(score: float) -> tuple[float, float]:
    p_agent = 1 / (1 + math.exp(-max(-30.0, min(30.0, score))))
    return p_agent, 1 - p_agent


def merge_turns(utterances: list[Utterance]) -> list[Utterance]:
    """Join consecutive utterances of the same (known) speaker separated by a short pause."""
    merged: list[Utterance] = []
    for utt in utterances:
        last = merged[-1] if merged else None
        if last is not None and last.speaker == utt.speaker and last.speaker != "unknown" and utt.start - last.end < MERGE_GAP_S:
            offset = len(last.text)
            last.end = utt.end
            last.text += utt.text
            last.raw_text += utt.raw_text
            last.norm_text += utt.norm_text
            last.words += utt.words
            last.corrections += [{**c, "start": c["start"] + offset, "end": c["end"] + offset} for c in utt.corrections]
            n = len(last.words) or 1
            last.confidence = (last.confidence * (n - len(utt.words)) + utt.confidence * len(utt.words)) / n
            last.speaker_confidence = min(last.speaker_confidence, utt.speaker_confidence)
        else:
            merged.append(utt)
    return merged


def _forward_backward(emissions: list[tuple[float, float]], switches: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Posterior of (agent, customer) per utterance.

    ``switches[i]`` = (P(agent→customer), P(customer→agent)) between utterances i and i+1.
    """
    forward = []
    prev = (0.5, 0.5)
    for i, (e_a, e_c) in enumerate(emissions):
        a_to_c, c_to_a = switches[i - 1] if i > 0 else (0.5, 0.5)
        a = e_a * (prev[0] * (1 - a_to_c) + prev[1] * c_to_a)
        c = e_c * (prev[0] * a_to_c + prev[1] * (1 - c_to_a))
        total = a + c or 1.0
        prev = (a / total, c / total)
        forward.append(prev)
    backward = [(1.0, 1.0)] * len(emissions)
    nxt = (1.0, 1.0)
    for i in range(len(emissions) - 1, 0, -1):
        e_a, e_c = emissions[i]
        a_to_c, c_to_a = switches[i - 1]
        a = (1 - a_to_c) * e_a * nxt[0] + a_to_c * e_c * nxt[1]
        c = c_to_a * e_a * nxt[0] + (1 - c_to_a) * e_c * nxt[1]
        total = a + c or 1.0
        nxt = (a / total, c / total)
        backward[i - 1] = nxt
    result = []
    for (fa, fc), (ba, bc) in zip(forward, backward):
        a, c = fa * ba, fc * bc
        total = a + c or 1.0
        result.append((a / total, c / total))
    return result
