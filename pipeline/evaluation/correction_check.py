"""False domain corrections on general Mandarin: how often correction changes text that is not about loans.

Each sentence of a plain-text file (one per line) is put into a two-turn call
and corrected exactly as a transcribed utterance is (``TermCorrector`` on
Whisper's text, then the call-level passes of ``text.call_corrections``): once as the
customer's answer, once as the agent's turn. The turn beside it is either
neutral or a question about the loan, so the figures show correction with and
without domain context. Any change to the sentence counts as false.

    python -m pipeline.evaluation.correction_check tests/data/general_mandarin.txt
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.text import correct_call
from pipeline.facts.lexicon import Lexicon, load_lexicon
from pipeline.text.normalize import Correction, corrector_for, normalise_for_extraction, to_simplified
from pipeline.speech.transcript import Utterance

# The other turn of the two-turn call, by role of the sentence and context.
NEUTRAL = {"customer": "您好，请讲。", "agent": "嗯，好的。"}
ABOUT_LOAN = {"customer": "请问这笔贷款的资金用途是什么？", "agent": "贷款用来进货了，还款没问题。"}
BORROWER = "王建国"


@dataclass
class Rate:
    changed: int
    total: int
    examples: list[tuple[str, str]]

    @property
    def rate(self) -> float:
        return self.changed / max(1, self.total)


@lru_cache(maxsize=8192)
def _heard(text: str, lexicon: Lexicon) -> tuple[str, tuple[Correction, ...]]:
    """What transcription makes of ``text`` (the same whatever the speaker: it is not known yet)."""
    corrected, corrections = corrector_for(lexicon).correct(text)
    return corrected, tuple(corrections)


def _utterance(text: str, speaker: str, start: float, lexicon: Lexicon) -> Utterance:
    corrected, corrections = _heard(text, lexicon)
    return Utterance(
        start=start, end=start + 2.0, speaker=speaker, text=corrected, raw_text=text,
        norm_text=normalise_for_extraction(corrected), corrections=[c.__dict__ for c in corrections],
    )


def corrected_as_turn(sentence: str, role: str, other: str, lexicon: Lexicon) -> str:
    """``sentence`` as said by ``role`` beside the turn ``other``, after every correction a call's text gets."""
    if role == "customer":
        utterances = [_utterance(other, "agent", 0.0, lexicon), _utterance(sentence, "customer", 2.0, lexicon)]
    else:
        utterances = [_utterance(sentence, "agent", 0.0, lexicon), _utterance(other, "customer", 2.0, lexicon)]
    correct_call(utterances, {"borrower_name": BORROWER}, lexicon)
    return next(u.text for u in utterances if u.speaker == role)


CONTEXTS = {"neutral": NEUTRAL, "loan": ABOUT_LOAN}


def false_corrections(sentences: list[str], lexicon: Lexicon | None = None, contexts: tuple[str, ...] = ("neutral", "loan")) -> dict[str, Rate]:
    """Share of sentences changed, per role and context: customer/agent × neutral/loan."""
    lexicon = lexicon or load_lexicon()
    rates: dict[str, Rate] = {}
    for context in contexts:
        others = CONTEXTS[context]
        for role in ("customer", "agent"):
            rate = Rate(0, 0, [])
            for sentence in sentences:
                sentence = to_simplified(sentence)
                fixed = corrected_as_turn(sentence, role, others[role], lexicon)
                rate.total += 1
                if fixed != sentence:
                    rate.changed += 1
                    rate.examples.append((sentence, fixed))
            rates[f"{role}/{context}"] = rate
    return rates


def read_sentences(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sentences", type=Path, help="UTF-8 text, one sentence per line")
    parser.add_argument("--show", type=int, default=5, help="changed sentences to print per row")
    args = parser.parse_args(argv)
    rates = false_corrections(read_sentences(args.sentences))
    print(f"{'turn/context':<20}{'changed':>9}{'of':>7}{'rate':>9}")
    for name, rate in rates.items():
        print(f"{name:<20}{rate.changed:>9}{rate.total:>7}{rate.rate:>9.2%}")
        for before, after in rate.examples[: args.show]:
            print(f"    {before} -> {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
