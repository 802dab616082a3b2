"""Rule matching with negation scope, and the fact combiner (question-answer pairing: ``answers``).

Each match carries its rule id and character offsets in the utterance text:
those are the evidence spans reviewers see. Rules decide where they are sure;
the classifiers (when shipped) fill in where no rule fired.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from pipeline.labels import FACT_VALUES, FACTS
from pipeline.facts.lexicon import Lexicon, Rule
from pipeline.facts.sound_match import AGENT_DUTY_LABELS
from pipeline.speech.guards import _SPOKEN_CHAR
from pipeline.speech.transcript import Utterance

# Negators that scope over what follows within the clause.
_NEGATOR = re.compile(r"(没有|没|不是|不|未|从不|从没|从来没|并非|并没|别|无|哪有|哪敢|哪能|哪会|哪里会|怎么可能|咋可能|咋会|不会|绝对没|也没|都没)")
_CLAUSE_BREAK = re.compile(r"[，。！？；,.!?;]|而是|但是|只是|就是|除了|是")
# Hedges weaken a statement without negating it: the fact stands, with less confidence.
_HEDGE = re.compile(r"可能|好像|应该|估计|大概|也许|说不定|不一定|差不多")
HEDGE_PENALTY = 0.12
NEGATION_WINDOW = 8
_QUESTION = re.compile(r"[吗嘛么？?]|有没有|是不是|是否|有无|会不会|能不能|还在不在|没有吧")
_DENIAL = re.compile(r"^(呃|嗯|哎|那|这个|唉)?[，,\s]*(没有|没|不是|不会|不不|哪有|哪能|哪敢|那可不敢|可不敢|不敢|那没有|肯定没有|绝对没有|没那回事|没这回事|不可能|没有没有|不存在)")
# A fund-use question names the use: 用/花/拿去/挪/投 (not only "贷款" or "还").
_ASKS_USE = re.compile(r"用|花|拿去|挪|投|买|炒|借给|转借|去向|干(什么|啥|嘛)|做(什么|啥)")

# The value that stands for "all is well" in each fact, used when risks are denied.
NORMAL_VALUE = {
    "fund_use": "business_operation",
    "repayment_ability": "normal",
    "collateral_status": "intact",
    "project_progress": "on_schedule",
    "business_condition": "normal",
}
# Worse first: when two risky values tie, report the more serious one.
SEVERITY_ORDER = {
    "fund_use": ["lend_to_others", "securities_investment", "real_estate", "repay_other_debt", "consumption", "refused", "business_operation"],
    "repayment_ability": ["unable", "strained", "normal"],
    "collateral_status": ["seized", "sold_or_transferred", "re_pledged", "damaged_or_devalued", "leased", "intact"],
    "project_progress": ["suspended", "delayed", "on_schedule"],
    "business_condition": ["ceased", "declining", "normal"],
}


UNPROMPTED_CLASSIFIER_PROB = 0.9
# Read borrowers' turns by sound as well (``sound_match``); off only to measure what it costs.
SOUND_READING = True


@dataclass
class Match:
    rule_id: str
    label: str
    utterance: int  # index into the call's utterances
    start: int  # character offsets in the utterance text
    end: int
    text: str
    negated: bool = False
    source: str = "rule"  # rule | answer (derived from the question it answers)
    hedged: bool = False
    by_sound: bool = False  # found on the sound reading or on corrected words: heard otherwise
    read_as: str = ""  # what the rule read where ``text`` (as heard) differs

    @functools.cached_property
    def kind(self) -> str:
        return self.label.split(":", 1)[0]

    def term(self) -> dict:
        """The match as the transcript's ``terms`` list shows it (heard text; what was read, when by sound)."""
        item = {"start": self.start, "end": self.end, "text": self.text, "rule_id": self.rule_id, "label": self.label, "negated": self.negated}
        return {**item, "by_sound": True, "read_as": self.read_as} if self.by_sound else item

    @functools.cached_property
    def value(self) -> str:
        return self.label.split(":", 1)[1]


@dataclass
class FactDecision:
    value: str
    confidence: float
    evidence: list[int] = field(default_factory=list)  # utterance indexes
    matches: list[Match] = field(default_factory=list)
    method: str = "none"  # rule | answer | denial | classifier | none
    needs_review: bool = False
    review_reasons: list[str] = field(default_factory=list)


def _in_scope(rule: Rule, speaker: str) -> bool:
    if rule.scope == "any":
        return True
    if speaker == "unknown":
        return True
    return rule.scope == speaker


# Words that hold 不 or 没 without negating what follows (差不多腰斩了, 不少订单).
_NOT_NEGATORS = re.compile(r"差不多|不少|不错|不一定|不管|不停|不断|忍不住|不仅|不光|不过|不然|说不定|不得不|没想到|没办法|不知道|不到|不足")


def is_negated(text: str, start: int) -> bool:
    """True when a negator stands before ``start`` inside the same clause (不是X，是Y negates only X)."""
    window_start = max(0, start - NEGATION_WINDOW)
    prefix = _NOT_NEGATORS.sub(lambda m: "　" * len(m.group(0)), text[window_start:start])
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    if breaks:
        last = breaks[-1]
        # "不是" itself contains the break "是": keep the clause when the break is part of a negator.
        if not (last.group(0) == "是" and prefix[max(0, last.start() - 1) : last.start()] in ("不", "并", "可")):
            prefix = prefix[last.end():]
    return bool(_NEGATOR.search(prefix))


def is_hedged(text: str, start: int) -> bool:
    """True when a hedge (可能, 好像, 估计 …) stands before ``start`` in the same clause."""
    clause_start = max((m.end() for m in re.finditer(r"[，。！？；,.!?;]", text[:start])), default=0)
    return bool(_HEDGE.search(text[max(clause_start, start - NEGATION_WINDOW) : start]))


def _context_ok(rule: Rule, utterances: list[Utterance], index: int) -> bool:
    if rule.context is None:
        return True
    if rule.context.search(utterances[index].text):
        return True
    # The sentence just before, whoever said it: on a mono recording the question, or the
    # first half of this answer, is often attributed to the wrong side.
    if index > 0 and utterances[index - 1].speaker != "system" and rule.context.search(utterances[index - 1].text):
        return True
    for prev in reversed(utterances[max(0, index - 3) : index]):
        if prev.speaker in ("agent", "unknown"):
            return bool(rule.context.search(prev.text))
    return False


def _sounds_like_agent(text: str, lexicon: Lexicon) -> bool:
    from pipeline.speech.speakers import agent_score

    return bool(_QUESTION.search(text)) or agent_score(text, lexicon) > 0


# Regional words read as Mandarin for matching, each replaced by one of the same
# length so match offsets (the evidence spans) stay those of the spoken text.
_DIALECT_READING = (("莫得", "没有"), ("木有", "没有"), ("没得", "没有"), ("冇", "没"), ("俺们", "我们"), ("俺", "我"),
                    ("咱俩", "我们"), ("晓得", "知道"), ("木问题", "没问题"), ("贼拉", "特别"),
                    # Cantonese written as spoken
                    ("咗", "了"), ("嘅", "的"), ("啲", "些"), ("佢", "他"), ("畀", "给"), ("俾", "给"), ("嚟", "来"), ("嗰", "那"),
                    ("唔", "不"), ("而家", "现在"), ("乜", "啥"), ("咩", "啥"), ("蚀", "亏"), ("揾", "找"), ("攞", "拿"), ("哋", "们"),
                    # variant forms the dictionaries allow and Whisper writes
                    ("定单", "订单"))


def dialect_reading(text: str) -> str:
    """The text with regional negations and pronouns in Mandarin (莫得/木有/冇 → 没有/没, 俺 → 我), same length."""
    for spoken, mandarin in _DIALECT_READING:
        if spoken in text:
            text = text.replace(spoken, mandarin)
    return text


@functools.lru_cache(maxsize=32)
def _rules_for(lexicon: Lexicon, speaker: str) -> tuple[Rule, ...]:
    """The rules that may match an utterance of this speaker (scope filter done once per lexicon)."""
    if speaker == "unknown-agent-like":
        return tuple(r for r in lexicon.rules if r.scope != "customer")
    if speaker == "agent-duties":
        return tuple(r for r in lexicon.rules if r.label in AGENT_DUTY_LABELS)
    return tuple(r for r in lexicon.rules if _in_scope(r, speaker))


def match_rules(utterances: list[Utterance], lexicon: Lexicon) -> list[Match]:
    """Every rule match in every utterance whose speaker fits the rule's scope.

    An utterance of unknown speaker that asks a question or sounds like the
    agent does not count as the borrower's statement. Rules also run on the
    utterance's sound reading (``sound_match``): a match found only there, or
    negated only there, is marked ``by_sound``, as is a match on words that
    transcription's correction rewrote.
    """
    matches: list[Match] = []
    for index, utt in enumerate(utterances):
        if utt.speaker == "system":
            continue
        text = dialect_reading(utt.text)
        agent_like = utt.speaker == "unknown" and _sounds_like_agent(text, lexicon)
        rules = _rules_for(lexicon, "unknown-agent-like" if agent_like else utt.speaker)
        found = _match_text(text, rules, utterances, index)
        if SOUND_READING and utt.speaker != "agent" and not agent_like:
            found = _with_sound_reading(text, found, rules, utterances, index, lexicon)
        else:
            found = _with_duties_by_sound(text, found, lexicon, utterances, index)
        if doubtful_borrower(utt):  # maybe the agent's: its duties are read too (compliance decides)
            duties = _match_text(text, _rules_for(lexicon, "agent-duties"), utterances, index)
            found += [m for m in _with_duties_by_sound(text, found + duties, lexicon, utterances, index) if m.label in AGENT_DUTY_LABELS]
        _mark_corrected(found, utt.corrections)
        matches += found
    return drop_covered(matches)


# On a mono recording who said a sentence is an estimate (pipeline.speech.speakers). Whisper splits
# the agent's opening at its pauses, and a fragment such as 通话会录音 can land on the borrower's side;
# below this confidence such an utterance is also read for the agent's duties (never for prohibited
# words: a doubt must not make an agent say an insult).
DOUBTFUL_SPEAKER = 0.8


# A fragment this short that speaks of recording (通话录音，) is a piece of the agent's notice cut off
# at a pause, however sure the attribution was: borrowers ask about recording, they do not announce it.
NOTICE_FRAGMENT_CHARS = 8
_RECORDING_WORD = re.compile(r"[录路露][音阴]")


def doubtful_borrower(utt: Utterance) -> bool:
    """Attributed to the borrower on a mono recording, without much confidence (0: not estimated), or a
    short fragment about recording."""
    if utt.speaker != "customer" or utt.channel != "mono" or utt.speaker_confidence <= 0.0:
        return False  # speakers given with the transcript (confidence 0) are taken as they are
    if utt.speaker_confidence < DOUBTFUL_SPEAKER:
        return True
    return bool(_RECORDING_WORD.search(utt.text)) and len(_SPOKEN_CHAR.findall(utt.text)) <= NOTICE_FRAGMENT_CHARS


def _with_duties_by_sound(text: str, found: list[Match], lexicon: Lexicon, utterances: list[Utterance], index: int) -> list[Match]:
    """``found`` plus the agent's duties read by sound, when the words themselves hold none."""
    if not SOUND_READING or any(m.label in AGENT_DUTY_LABELS for m in found):
        return found
    return _with_sound_reading(text, found, _rules_for(lexicon, "agent-duties"), utterances, index, lexicon, duty=True)


def _match_text(text: str, rules: tuple[Rule, ...], utterances: list[Utterance], index: int) -> list[Match]:
    """The matches of ``rules`` in one reading of utterance ``index``."""
    out: list[Match] = []
    present = set(text)
    for rule in rules:
        if rule.first_chars is not None and rule.first_chars.isdisjoint(present):
            continue
        for found in rule.pattern.finditer(text):
            if found.end() == found.start():
                continue
            if not _context_ok(rule, utterances, index) or (rule.unless is not None and rule.unless.search(text)):
                break
            negated = rule.negatable and (is_negated(text, found.start()) or is_post_negated(text, found.end()))
            hedged = is_hedged(text, found.start())
            out.append(Match(rule.id, rule.label, index, found.start(), found.end(), found.group(0), negated, hedged=hedged))
    return out


def _with_sound_reading(text: str, plain: list[Match], rules: tuple[Rule, ...], utterances: list[Utterance],
                        index: int, lexicon: Lexicon, duty: bool = False) -> list[Match]:
    """The matches of the sound reading where it differs from ``text``; the plain ones it lost stay.

    Windows that overlap a plain match are not read by sound: what was heard
    as a rule's words is not read as another's. ``duty``: an agent's turn, read
    against the agent-duty phrases only (``sound_match.AGENT_DUTY_LABELS``).
    """
    from pipeline.facts.sound_match import duty_reading, sound_reading

    reading, spans = (duty_reading if duty else sound_reading)(text, lexicon)
    spans = tuple(s for s in spans if not any(m.start < s.end and s.start < m.end for m in plain))
    if not spans:
        return plain
    chars = list(text)
    for span in spans:
        chars[span.start:span.end] = span.read_as
    reading = "".join(chars)
    heard = {(m.rule_id, m.start, m.end): m for m in plain}
    out: list[Match] = []
    for m in _match_text(reading, rules, utterances, index):
        same = heard.pop((m.rule_id, m.start, m.end), None)
        if same is not None and same.negated == m.negated:
            out.append(same)
            continue
        m.text = text[m.start:m.end]  # the evidence cites what was heard
        m.by_sound = True
        m.read_as = reading[m.start:m.end]
        out.append(m)
    return out + list(heard.values())


def heard_reading(text: str, lexicon: Lexicon) -> str:
    """What the classifiers read of a borrower's turn: regional words in Mandarin, then the sound reading."""
    text = dialect_reading(text)
    if not SOUND_READING:
        return text
    from pipeline.facts.sound_match import sound_reading

    return sound_reading(text, lexicon)[0]


def _mark_corrected(matches: list[Match], corrections: list[dict]) -> None:
    """A match on words that correction rewrote by their sound was heard otherwise: ``by_sound`` too."""
    for m in matches:
        for c in corrections:
            if c.get("start", 0) < m.end and m.start < c.get("end", 0) and c.get("original") != c.get("corrected"):
                m.by_sound = True
                m.read_as = m.read_as or m.text


_COVER_ONLY = {"not_mentioned", "NONE"}
# After a match, in its clause: the borrower says he never touched it (股票那玩意儿碰都不碰).
_POST_NEGATION = re.compile(r"^[^，。,.！？!?；;]{0,8}?(碰都不碰|从来不碰|没碰过|不碰|不懂|不玩|没玩过|没买过|不沾|没沾过|不搞|没搞过|没兴趣|一窍不通|想都不敢想|不敢碰|没那个胆)")


def is_post_negated(text: str, end: int) -> bool:
    """True when the clause after a match denies it (X那玩意儿碰都不碰, X我不懂)."""
    return bool(_POST_NEGATION.search(text[end:]))


def drop_covered(matches: list[Match]) -> list[Match]:
    """Of two matches on one fact in one utterance, a match lying inside a longer one of another value goes.

    The longer phrase is the more specific reading: 店面装修 (business) over
    装修 (consumption), 买了一辆送货的小货车 (business) over 买车.
    """
    groups: dict[tuple[int, str], list[Match]] = {}
    for m in matches:
        if m.kind in FACTS or m.kind == "signal":
            groups.setdefault((m.utterance, m.kind), []).append(m)
    dropped = set()
    for group in groups.values():
        if len(group) < 2:
            continue
        for m in group:
            if any(o.value != m.value and o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start) for o in group):
                dropped.add(id(m))
    # Rules labelled not_mentioned / NONE exist only to cover: they go once they have.
    return [m for m in matches if id(m) not in dropped and m.value not in _COVER_ONLY]


def decide_fact(fact: str, matches: list[Match], classifier_votes: list[tuple[int, str, float]] | None = None,
                topic_raised: bool = False, utterances: list[Utterance] | None = None, proper_use: str | None = None) -> FactDecision:
    """Decide one fact, then say whether a reviewer should listen (``needs_review``, with its reasons).

    ``classifier_votes`` are (utterance, value, probability) readings of the
    classifier; it decides alone only at CLASSIFIER_MIN_PROB or above, weaker
    readings serve as a second opinion for the review. From NORMAL_MIN_PROB it
    may read the all-is-well value, which raises nothing: for fund use that is
    ``proper_use``, the use the loan's contract allows, and only when the agent
    asked where the money went (a garbled answer to that question).
    """
    votes = classifier_votes or []
    own = [m for m in matches if m.kind == fact]
    if fact == "fund_use":
        weak_ok = proper_use if topic_raised else None
    else:
        weak_ok = NORMAL_VALUE[fact]
    sure = [v for v in votes if v[2] >= CLASSIFIER_MIN_PROB or (weak_ok is not None and v[1] == weak_ok and v[2] >= NORMAL_MIN_PROB)]
    decision = _decide(fact, own, sure, topic_raised)
    decision.review_reasons = review_reasons(fact, decision, own, votes, topic_raised, utterances)
    decision.needs_review = bool(decision.review_reasons)
    return decision


def _decide(fact: str, matches: list[Match], classifier_votes: list[tuple[int, str, float]], topic_raised: bool) -> FactDecision:
    """Risky statements first, then normal ones, then denials, then the classifier."""
    own = [m for m in matches if m.kind == fact and m.value != "not_mentioned"]  # not_mentioned rules only cover others
    positive = [m for m in own if not m.negated]
    denied = [m for m in own if m.negated and m.value != NORMAL_VALUE[fact]]
    normal = NORMAL_VALUE[fact]
    risky = [m for m in positive if m.value != normal]
    order = SEVERITY_ORDER[fact]
    if risky:
        by_value: dict[str, float] = {}
        for m in risky:
            by_value[m.value] = by_value.get(m.value, 0.0) + (0.6 if m.source != "rule" else 0.7 if m.by_sound else 1.0)
        # refused only when nothing more telling was said
        if len(by_value) > 1:
            by_value.pop("refused", None)
        best = max(by_value, key=lambda v: (by_value[v], -order.index(v)))
        chosen = [m for m in risky if m.value == best]
        confidence = min(0.97, 0.72 + 0.08 * len(chosen) + (0.05 if all(m.source == "rule" and not m.by_sound for m in chosen) else 0.0))
        if all(m.hedged for m in chosen):
            confidence -= HEDGE_PENALTY
        return FactDecision(best, round(confidence, 2), _indexes(chosen), chosen, "rule")
    fine = [m for m in positive if m.value == normal]
    if fine:
        confidence = min(0.95, 0.75 + 0.07 * len(fine))
        if all(m.hedged for m in fine):
            confidence -= HEDGE_PENALTY
        return FactDecision(normal, round(confidence, 2), _indexes(fine), fine, "rule")
    if denied:
        return FactDecision(normal, 0.7, _indexes(denied), denied, "denial")
    if classifier_votes:
        index, value, prob = max(classifier_votes, key=lambda v: v[2])
        # Alone, the classifier must be surer about a topic the agent never raised.
        if value != "not_mentioned" and value in FACT_VALUES[fact] and (topic_raised or prob >= UNPROMPTED_CLASSIFIER_PROB):
            return FactDecision(value, round(min(prob, 0.9) * 0.9, 2), [index], [], "classifier")
    return FactDecision("not_mentioned", 0.6 if topic_raised else 0.9, [], [], "none")


# The classifier decides a fact alone only when it is this sure; weaker
# readings down to SECOND_OPINION_PROB only send the fact to review.
CLASSIFIER_MIN_PROB = 0.75
# ... but the all-is-well value of the facts other than fund use needs only this: read instead of
# not_mentioned it raises and hides nothing (rules decide first), and it goes to review as ``weak``.
NORMAL_MIN_PROB = 0.5
SECOND_OPINION_PROB = 0.5
VOTE_FLOOR = 0.3  # readings kept at all (for review only below SECOND_OPINION_PROB)
REVIEW_BELOW_CONFIDENCE = 0.65
# A not_mentioned fact is sent to review when the classifier gave a value this much weight.
UNCLEAR_PROB_UNASKED = 0.35
_HEDGE_WORDS = re.compile(r"应该|好像|可能|差不多|大概|估计|也许|说不定|不一定|我记得|听说|不太清楚|不清楚|记不清")


def review_reasons(fact: str, decision: FactDecision, matches: list[Match], votes: list[tuple[int, str, float]],
                   topic_raised: bool, utterances: list[Utterance] | None = None) -> list[str]:
    """Why a reviewer should listen before trusting this fact; empty when the evidence is plain.

    weak (low confidence, or the classifier alone and not very sure), hedged
    (应该/好像/可能/差不多 in the evidence), contradictory (two values stated,
    the classifier reading another value, a normal value only inferred from a
    denied risk), answer_only (the risk is in the agent's words, the borrower
    only said yes), near_denial (the value comes right after the borrower
    denied something), unprompted (the classifier alone, on a topic the
    agent never raised), by_sound (every match was read from words heard
    otherwise: the sound reading, or a correction when the value is a
    risk), unclear (asked about, and the
    answer was not understood).
    """
    reasons: list[str] = []
    value, normal = decision.value, NORMAL_VALUE[fact]
    texts = [utterances[i].text for i in decision.evidence] if utterances else []
    stated = [m for m in matches if m.kind == fact and not m.negated]
    if value == "not_mentioned":
        # The classifier heard something on this fact that was not enough to decide.
        # Or the agent asked about it and nothing in the answers could be read as a value.
        if topic_raised or any(v != "not_mentioned" and p >= UNCLEAR_PROB_UNASKED for _i, v, p in votes):
            reasons.append("unclear")
        return reasons
    if decision.confidence < REVIEW_BELOW_CONFIDENCE or (decision.method == "classifier" and decision.confidence < 0.8):
        reasons.append("weak")
    if decision.method == "classifier" and not topic_raised:
        reasons.append("unprompted")  # read by the classifier alone from words the agent never asked for
    if any(m.hedged for m in decision.matches) or (decision.method == "classifier" and any(_HEDGE_WORDS.search(t) for t in texts)):
        reasons.append("hedged")
    others = {m.value for m in stated if m.value != value and not (m.value == "refused" or value == "refused")}
    other_utts = {m.utterance for m in stated if m.value != value} - set(decision.evidence)
    if (others - {normal}) or (normal in others and other_utts):
        reasons.append("contradictory")
    elif any(v != value and v != "not_mentioned" and (p >= CLASSIFIER_MIN_PROB or (i in decision.evidence and p >= SECOND_OPINION_PROB))
             for i, v, p in votes) and decision.method != "classifier":
        reasons.append("classifier_disagrees")
    if decision.method == "denial" and fact == "fund_use":
        reasons.append("inferred_from_denial")
    if value != normal and decision.matches and all(m.source == "answer" for m in decision.matches):
        reasons.append("answer_only")
    # Read by sound: always worth a listen; on words correction rewrote, only when they raise a risk.
    if decision.matches and all(m.by_sound for m in decision.matches) and (
            value != normal or any(m.read_as != m.text for m in decision.matches)):
        reasons.append("by_sound")
    if value != normal and utterances and decision.matches and all(
            _DENIAL.search(utterances[m.utterance].text.strip()) and m.start <= 12 for m in decision.matches):
        reasons.append("near_denial")
    return reasons


def _indexes(matches: list[Match]) -> list[int]:
    return sorted({m.utterance for m in matches})
