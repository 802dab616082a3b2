"""The text stages on labelled transcripts made ASR-like by ``pipeline.facts.noise``: facts that survive mishearing.

Each turn's text is first noised (seeded), then corrected exactly as
transcription corrects Whisper's text (``TermCorrector``, keeping the noisy
text as ``raw_text``), then every text stage runs and is scored as
``huifang eval --transcripts`` scores perfect words. Several seeds give
several noisy versions of the same calls; the figures are pooled.

    python -m pipeline.evaluation.noisy_eval data/dev --seeds 1 2 3
"""
from __future__ import annotations

import argparse
import copy
import random
import sys
from pathlib import Path

from pipeline.evaluation.evaluate import edit_distance, evaluate_transcripts, format_transcript_table, load_transcript_calls, utterances_from_turns
from pipeline.facts.lexicon import Lexicon, load_lexicon
from pipeline.facts.noise import NoiseRates, asr_like
from pipeline.text.normalize import corrector_for, normalise_for_extraction


def heard_utterances(turns: list[dict], lexicon: Lexicon):
    """Utterances of noisy turns as transcription leaves them: corrected text, the noisy text kept as ``raw_text``."""
    utterances = utterances_from_turns(turns)
    corrector = corrector_for(lexicon)
    for utt in utterances:
        if utt.speaker == "system":
            continue
        corrected, corrections = corrector.correct(utt.raw_text)
        utt.text = corrected
        utt.norm_text = normalise_for_extraction(corrected)
        utt.corrections = [c.__dict__ for c in corrections]
    return utterances


def noisy_copies(calls: list[dict], seeds: list[int], rates: NoiseRates) -> tuple[list[dict], float]:
    """The calls once per seed (call ids suffixed ``~seed``), and the character error rate the noise made."""
    out, errors, total = [], 0, 0
    for seed in seeds:
        rng = random.Random(seed)
        for call in calls:
            noisy = copy.deepcopy(call)
            noisy["call_id"] = f"{call['call_id']}~{seed}"
            for turn in noisy["turns"]:
                if turn.get("speaker") in ("agent", "customer", "unknown"):
                    clean = turn["text"]
                    turn["text"] = asr_like(clean, rng, rates)
                    errors += edit_distance(clean, turn["text"])
                    total += len(clean)
            out.append(noisy)
    return out, errors / max(1, total)


def run(directory: Path, seeds: list[int], rates: NoiseRates = NoiseRates(), classifiers=None) -> tuple[dict, dict, list[dict], float]:
    """(scores, summaries, noisy calls, CER of the noise) for the calls of ``directory``."""
    from pipeline.analyze import analyze_transcript
    from pipeline.batch import load_classifiers_if_present

    lexicon = load_lexicon()
    classifiers = classifiers if classifiers is not None else load_classifiers_if_present()
    calls, cer = noisy_copies(load_transcript_calls(directory), seeds, rates)
    summaries = {}
    for call in calls:
        manifest = {k: v for k, v in (call.get("manifest") or {}).items() if v is not None}
        utterances = heard_utterances(call["turns"], lexicon)
        summaries[call["call_id"]] = analyze_transcript(utterances, manifest, call_id=call["call_id"],
                                                        duration_s=utterances[-1].end if utterances else 0.0,
                                                        lexicon=lexicon, classifiers=classifiers)
    return evaluate_transcripts(calls, summaries), summaries, calls, cer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", type=Path, help="folder of labelled transcripts (DIR/calls/*.json)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every noise rate")
    parser.add_argument("--show", action="store_true", help="print each wrong fact with its heard evidence")
    args = parser.parse_args(argv)
    base = NoiseRates()
    rates = NoiseRates(*(getattr(base, f) * args.scale for f in ("word_swap", "same_sound", "near_sound", "drop")))
    scores, summaries, calls, cer = run(args.transcripts, args.seeds, rates)
    print(f"{len(calls)} noisy calls (seeds {args.seeds}), noise CER {cer:.3f}")
    print(format_transcript_table(scores))
    if args.show:
        for call in calls:
            facts = summaries[call["call_id"]].get("facts") or {}
            for fact, want in call["truth"].get("facts", {}).items():
                got = facts.get(fact) or {}
                if got.get("value") != want:
                    heard = " | ".join(e["text"] for e in got.get("evidence", []))
                    print(f"{call['call_id']} {fact}: {got.get('value')} (want {want}) review={got.get('review_reasons')} {heard}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
