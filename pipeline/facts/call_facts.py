"""Corrected utterances to the call's facts: the facts stage's entry point, ``extract_facts``.

Rules and answers are matched first; the outcome decides whether there are
facts to read at all; on a connected call each fact is decided from the rule
matches and the classifiers' votes together (``extract.decide_fact``).
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.facts.answers import answer_matches, matches_across_pauses, other_debt_question
from pipeline.facts.extract import VOTE_FLOOR, FactDecision, Match, decide_fact, heard_reading, match_rules
from pipeline.facts.lexicon import Lexicon
from pipeline.facts.outcome import Outcome, decide_outcome
from pipeline.labels import FACTS
from pipeline.speech.transcript import Utterance


@dataclass
class CallFacts:
    """What the facts stage read from one call: every rule and answer match, the outcome, one decision per fact."""

    matches: list[Match]
    outcome: Outcome
    decisions: dict[str, FactDecision]

    @property
    def connected(self) -> bool:
        return self.outcome.value == "connected"


def extract_facts(utterances: list[Utterance], lexicon: Lexicon, classifiers=None, borrower_name: str = "",
                  proper_use: str | None = None) -> CallFacts:
    """Matches, outcome and the five facts; a call that was not connected states none of them.

    ``proper_use``: the fund use the loan's contract allows (``judgement.risk.proper_use``), if known.
    """
    matches = matches_across_pauses(utterances, match_rules(utterances, lexicon), lexicon)
    matches += answer_matches(utterances, lexicon)
    deny_echoes_by_sound(matches)
    outcome = decide_outcome(utterances, matches, lexicon, borrower_name)
    connected = outcome.value == "connected"
    topics = {m.value for m in matches if m.kind == "topic"}
    votes = classifier_votes(utterances, classifiers, lexicon) if connected else {fact: [] for fact in FACTS}
    decisions: dict[str, FactDecision] = {}
    for fact in FACTS:
        if connected:
            decisions[fact] = decide_fact(fact, matches, votes[fact], topic_raised=fact in topics, utterances=utterances, proper_use=proper_use)
        else:
            decisions[fact] = FactDecision("not_mentioned", 0.95)
    return CallFacts(matches, outcome, decisions)


def classifier_votes(utterances: list[Utterance], classifiers, lexicon: Lexicon) -> dict[str, list[tuple[int, str, float]]]:
    """Per fact, every (utterance, value, probability) the classifiers read on the borrower's answers with some weight."""
    votes: dict[str, list[tuple[int, str, float]]] = {fact: [] for fact in FACTS}
    if classifiers is None:
        return votes
    from pipeline.facts.classify import make_input

    indexes, inputs, contexts = [], [], []
    for i, utt in enumerate(utterances):
        if utt.speaker not in ("customer", "unknown") or len(utt.norm_text) < 4:
            continue
        context = next((utterances[j].norm_text for j in range(i - 1, max(-1, i - 3), -1) if utterances[j].speaker == "agent"), "")
        indexes.append(i)
        contexts.append(context)
        inputs.append(make_input(context, heard_reading(utt.norm_text, lexicon)))
    if not inputs:
        return votes
    predictions = classifiers.predict_many(list(FACTS), inputs)
    for fact in FACTS:
        for i, context, (_best, _prob, dist) in zip(indexes, contexts, predictions[fact]):
            # The answer to "other loans?" is about those loans, never this loan's use.
            if fact == "fund_use" and other_debt_question(context):
                continue
            # Every value the classifier reads with some weight: decide_fact decides on the sure ones, reviews with the rest.
            for value, prob in dist.items():
                if value != "not_mentioned" and prob >= VOTE_FLOOR:
                    votes[fact].append((i, value, prob))
    return votes


def deny_echoes_by_sound(matches: list[Match]) -> None:
    """An answer that denies a risk the agent asked about (没有没有，哪敢炒股啊) does not admit it by sound.

    When Whisper mishears the echo (那干炒骨), the sound reading finds the risk
    again without the negator; such a match, found only by sound in the same
    answer as the denial, is read as denied. A risk said in the answer's own
    words (没有，就是买了点股票) is left as said.
    """
    denied = {(m.utterance, m.label) for m in matches if m.source == "answer" and m.negated}
    for m in matches:
        if m.by_sound and not m.negated and m.source != "answer" and (m.utterance, m.label) in denied:
            m.negated = True

