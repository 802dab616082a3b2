"""False facts on general Mandarin: how often a sentence not about loans yields a risky fact or a credit flag.

Each sentence of a plain-text file is the borrower's answer in a two-turn call
whose agent asks about the loan's use (the context in which extraction reads
most boldly), corrected as transcription corrects Whisper's text, then run
through every text stage. A fact with a value other than ``not_mentioned`` or
the normal one, or any credit flag, counts as false. Run once with the sound
reading and once without it, so its own cost is visible (the sentences whose
findings differ are printed); both as written and ASR-noised (``pipeline.facts.noise``), since misheard sentences are what the
sound reading sees.

    python -m pipeline.evaluation.false_facts tests/data/general_mandarin.txt
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from pipeline.evaluation.correction_check import ABOUT_LOAN, _utterance, read_sentences
from pipeline.facts import extract
from pipeline.facts.lexicon import load_lexicon
from pipeline.facts.noise import asr_like
from pipeline.labels import CREDIT_FLAGS
from pipeline.text.normalize import to_simplified


def risky_findings(summary: dict) -> list[str]:
    """The risky fact values and credit flags of one summary, e.g. ["fund_use:consumption", "FUND_MISUSE"]."""
    found = [f"{fact}:{item['value']}" for fact, item in summary["facts"].items()
             if item["value"] not in ("not_mentioned", extract.NORMAL_VALUE[fact])]
    return found + [flag["code"] for flag in summary["flags"] if flag["code"] in CREDIT_FLAGS and flag["code"] != "CONTACT_FAILED"]


def false_facts(sentences: list[str], noise_seed: int | None = None) -> dict[str, list[tuple[str, list[str]]]]:
    """Per sound reading "off" and "on": the sentences (as heard) yielding anything risky, with what they yielded."""
    from pipeline.analyze import analyze_transcript
    from pipeline.batch import load_classifiers_if_present

    lexicon = load_lexicon()
    classifiers = load_classifiers_if_present()
    rng = random.Random(noise_seed) if noise_seed is not None else None
    found: dict[str, list[tuple[str, list[str]]]] = {"off": [], "on": []}
    was = extract.SOUND_READING
    try:
        for sentence in sentences:
            sentence = to_simplified(sentence)
            heard = asr_like(sentence, rng) if rng else sentence
            for mode in ("off", "on"):
                extract.SOUND_READING = mode == "on"
                utterances = [_utterance(ABOUT_LOAN["customer"], "agent", 0.0, lexicon), _utterance(heard, "customer", 2.0, lexicon)]
                summary = analyze_transcript(utterances, {"loan_purpose": "经营周转", "borrower_name": "王建国"}, call_id="general",
                                             duration_s=4.0, lexicon=lexicon, classifiers=classifiers)
                risky = risky_findings(summary)
                if risky:
                    by_sound = [f for f in risky if ":" in f and "by_sound" in summary["facts"][f.split(":")[0]]["review_reasons"]]
                    found[mode].append((heard, risky + [f"(by_sound: {', '.join(by_sound)})"] * bool(by_sound)))
    finally:
        extract.SOUND_READING = was
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sentences", type=Path, help="UTF-8 text, one sentence per line")
    parser.add_argument("--show", type=int, default=8, help="examples to print per row")
    parser.add_argument("--noise-seed", type=int, default=1)
    args = parser.parse_args(argv)
    sentences = read_sentences(args.sentences)
    print(f"{'sentences':<14}{'off':>6}{'on':>6}{'of':>6}   (sentences yielding a risky fact or credit flag, sound reading off / on)")
    for noisy in (False, True):
        found = false_facts(sentences, args.noise_seed if noisy else None)
        print(f"{'ASR-noised' if noisy else 'as written':<14}{len(found['off']):>6}{len(found['on']):>6}{len(sentences):>6}")
        before = dict(found["off"])
        changed = [(heard, risky) for heard, risky in found["on"] if before.get(heard) != risky]
        for heard, risky in changed[: args.show]:
            print(f"    {heard} -> {', '.join(risky)} (off: {', '.join(before.get(heard, [])) or 'nothing'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
