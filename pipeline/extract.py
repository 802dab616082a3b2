"""Rule matching with negation scope and question-answer pairing, and the fact combiner.

Each match carries its rule id and character offsets in the utterance text:
those are the evidence spans reviewers see. Rules decide where they are sure;
the classifiers (when shipped) fill in where no rule fired.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .labels import FACT_VALUES, FACTS
from .lexicon import Lexicon, Rule
from .transcript import Utterance

# Negators that scope over what follows within the clause.
_NEGATOR = re.compile(r"(没有|没|不是|不|未|从不|从没|从来没|并非|并没|别|无|哪有|不会|绝对没|也没|都没)")
_CLAUSE_BREAK = re.compile(r"[，。！？；,.!?;]|而是|但是|只是|就是|除了|是")
# Hedges weaken a statement without negating it: the fact stands, with less confidence.
_HEDGE = re.compile(r"可能|好像|应该|估计|大概|也许|说不定|不一定|差不多")
HEDGE_PENALTY = 0.12
NEGATION_WINDOW = 8
_QUESTION = re.compile(r"[吗嘛么？?]|有没有|是不是|是否|有无|会不会|能不能|还在不在|没有吧")
_DENIAL = re.compile(r"^(呃|嗯|哎|那|这个|唉)?[，,\s]*(没有|没|不是|不会|不不|哪有|哪能|那没有|肯定没有|绝对没有|没那回事|没这回事|不可能|没有没有|不存在)")
_AFFIRM = re.compile(r"^(呃|嗯|哎|唉)?[，,\s]*(有|对|是的|是啊|是|对的|没错|嗯对|确实|有的|有一点|有点)")
_FINE_ANSWER = re.compile(r"(没问题|正常|挺好|还行|都好|还可以|好好的|在的|还在|没变|没动|照常|稳定|不错)")

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

    @property
    def kind(self) -> str:
        return self.label.split(":", 1)[0]

    @property
    def value(self) -> str:
        return self.label.split(":", 1)[1]


@dataclass
class FactDecision:
    value: str
    confidence: float
    evidence: list[int] = field(default_factory=list)  # utterance indexes
    matches: list[Match] = field(default_factory=list)
    method: str = "none"  # rule | answer | denial | classifier | none


def _in_scope(rule: Rule, speaker: str) -> bool:
    if rule.scope == "any":
        return True
    if speaker == "unknown":
        return True
    return rule.scope == speaker


def is_negated(text: str, start: int) -> bool:
    """True when a negator stands before ``start`` inside the same clause (不是X，是Y negates only X)."""
    window_start = max(0, start - NEGATION_WINDOW)
    prefix = text[window_start:start]
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
    for prev in reversed(utterances[max(0, index - 3) : index]):
        if prev.speaker in ("agent", "unknown"):
            return bool(rule.context.search(prev.text))
    return False


def _sounds_like_agent(text: str, lexicon: Lexicon) -> bool:
    from .speakers import agent_score

    return bool(_QUESTION.search(text)) or agent_score(text, lexicon) > 0


def match_rules(utterances: list[Utterance], lexicon: Lexicon) -> list[Match]:
    """Every rule match in every utterance whose speaker fits the rule's scope.

    An utterance of unknown speaker that asks a question or sounds like the
    agent does not count as the borrower's statement.
    """
    matches: list[Match] = []
    for index, utt in enumerate(utterances):
        if utt.speaker == "system":
            continue
        text = utt.text
        agent_like = utt.speaker == "unknown" and _sounds_like_agent(text, lexicon)
        for rule in lexicon.rules:
            if not _in_scope(rule, utt.speaker):
                continue
            if agent_like and rule.scope == "customer":
                continue
            for found in rule.pattern.finditer(text):
                if found.end() == found.start():
                    continue
                if not _context_ok(rule, utterances, index):
                    break
                negated = rule.negatable and is_negated(text, found.start())
                hedged = is_hedged(text, found.start())
                matches.append(Match(rule.id, rule.label, index, found.start(), found.end(), found.group(0), negated, hedged=hedged))
    return matches


def answer_matches(utterances: list[Utterance], lexicon: Lexicon) -> list[Match]:
    """Matches implied by short answers: the agent's question sets the topic, the answer the value."""
    fact_rules = [r for r in lexicon.rules if r.kind in FACTS]
    topic_rules = lexicon.rules_of_kind("topic")
    derived: list[Match] = []
    for index, utt in enumerate(utterances):
        if utt.speaker not in ("agent", "unknown") or not _QUESTION.search(utt.text):
            continue
        topics = {r.value for r in topic_rules if r.pattern.search(utt.text)}
        # Only a question on the fact's own topic sets the value a short answer confirms or denies.
        asked = [(r, m) for r in fact_rules if r.kind in topics for m in [r.pattern.search(utt.text)] if m]
        answer_index = index + 1
        while answer_index < len(utterances) and utterances[answer_index].speaker == "system":
            answer_index += 1
        if answer_index >= len(utterances) or utterances[answer_index].speaker not in ("customer", "unknown"):
            continue
        answer = utterances[answer_index].text.strip()
        denial, affirm = _DENIAL.search(answer), _AFFIRM.search(answer)
        for rule, found in asked:
            fact, value = rule.kind, rule.value
            if value == NORMAL_VALUE.get(fact) or value == "refused":
                continue
            if denial:
                derived.append(Match(rule.id, rule.label, answer_index, denial.start(2), denial.end(2), denial.group(2), True, "answer"))
            elif affirm and len(answer) <= 12:
                derived.append(Match(rule.id, rule.label, answer_index, affirm.start(2), affirm.end(2), affirm.group(2), False, "answer"))
        fine = _FINE_ANSWER.search(answer)
        if fine and not denial:
            for fact in topics & set(NORMAL_VALUE):
                if fact == "fund_use":
                    continue  # "没问题" does not say where the money went
                derived.append(Match(f"answer_{fact}", f"{fact}:{NORMAL_VALUE[fact]}", answer_index, fine.start(), fine.end(), fine.group(0), False, "answer"))
    return derived


def decide_fact(fact: str, matches: list[Match], classifier_votes: list[tuple[int, str, float]] | None = None, topic_raised: bool = False) -> FactDecision:
    """Decide one fact: risky statements first, then normal ones, then denials, then the classifier."""
    own = [m for m in matches if m.kind == fact]
    positive = [m for m in own if not m.negated]
    denied = [m for m in own if m.negated and m.value != NORMAL_VALUE[fact]]
    normal = NORMAL_VALUE[fact]
    risky = [m for m in positive if m.value != normal]
    order = SEVERITY_ORDER[fact]
    if risky:
        by_value: dict[str, float] = {}
        for m in risky:
            by_value[m.value] = by_value.get(m.value, 0.0) + (1.0 if m.source == "rule" else 0.6)
        # refused only when nothing more telling was said
        if len(by_value) > 1:
            by_value.pop("refused", None)
        best = max(by_value, key=lambda v: (by_value[v], -order.index(v)))
        chosen = [m for m in risky if m.value == best]
        confidence = min(0.97, 0.72 + 0.08 * len(chosen) + (0.05 if all(m.source == "rule" for m in chosen) else 0.0))
        if all(m.hedged for m in chosen):
            confidence -= HEDGE_PENALTY
        return FactDecision(best, round(confidence, 2), _indexes(chosen), chosen, "rule")
    fine = [m for m in positive if m.value == normal]
    if fine:
        confidence = min(0.95, 0.75 + 0.07 * len(fine))
        return FactDecision(normal, round(confidence, 2), _indexes(fine), fine, "rule")
    if denied:
        return FactDecision(normal, 0.7, _indexes(denied), denied, "denial")
    if classifier_votes:
        index, value, prob = max(classifier_votes, key=lambda v: v[2])
        # Alone, the classifier must be surer about a topic the agent never raised.
        if value != "not_mentioned" and value in FACT_VALUES[fact] and (topic_raised or prob >= UNPROMPTED_CLASSIFIER_PROB):
            return FactDecision(value, round(min(prob, 0.9) * 0.9, 2), [index], [], "classifier")
    return FactDecision("not_mentioned", 0.6 if topic_raised else 0.9, [], [], "none")


def _indexes(matches: list[Match]) -> list[int]:
    return sorted({m.utterance for m in matches})
