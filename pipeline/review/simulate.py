"""Simulated reviews, to measure what retraining from reviews buys before real reviewers exist.

Half of the evaluation calls are "reviewed": wherever the installed models get a
fact wrong, the simulated reviewer sets the true value and points at the
customer's answer that states it (facts the machine got right are confirmed as
they are). The models are retrained with those corrections and scored on the
other half, before and after. Run::

    python -m pipeline.review.simulate --eval data/eval [--install]

Without ``--install`` the installed models are left alone (the rule is applied
to a copy).
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from contextlib import closing
from pathlib import Path

from pipeline.review import store
from pipeline.review.retrain import analyse_eval_call, load_eval_calls, retrain_with_reviews

ROOT = Path(__file__).resolve().parents[2]


def pointed_utterance(summary: dict, fact: str, machine_right: bool) -> dict | None:
    """Where a reviewer points: the machine's evidence when it was right, else the first customer
    answer after the greeting that is no other fact's evidence."""
    transcript = summary["transcript"]
    evidence = summary["facts"][fact].get("evidence") or []
    if machine_right and evidence:
        found = next((u for u in transcript if u["start"] == evidence[0]["start"]), None)
        if found is not None:
            return found
    taken = {e["start"] for f, d in summary["facts"].items() if f != fact for e in d.get("evidence") or []}
    answers = [u for i, u in enumerate(transcript) if u["speaker"] in ("customer", "unknown") and i >= 2]
    return next((u for u in answers if u["start"] not in taken), answers[0] if answers else None)


def simulate_reviews(conn, calls: list[dict], model_dir: Path, night: str = "simulated", reviewer: str = "simulated") -> int:
    """Record one fact decision per stated fact of each call; returns how many corrected the machine."""
    from pipeline.facts.classify import load_classifiers
    from pipeline.facts.lexicon import load_lexicon

    classifiers, lexicon = load_classifiers(Path(model_dir)), load_lexicon()
    corrections = 0
    for call in calls:
        summary = analyse_eval_call(call, classifiers, lexicon)
        if summary.get("call_outcome") != "connected":
            continue
        for fact, want in (call["truth"].get("facts") or {}).items():
            want = want.get("value") if isinstance(want, dict) else want
            machine = summary["facts"][fact]["value"]
            if want in (None, "not_mentioned") and machine == "not_mentioned":
                continue
            utt = pointed_utterance(summary, fact, machine == want)
            if utt is None:
                continue
            i = summary["transcript"].index(utt)
            context = next((u["text"] for u in reversed(summary["transcript"][:i]) if u["speaker"] == "agent"), "")
            corrections += machine != want
            store.record_decision(conn, reviewer=reviewer, night=night, call_id=str(call["call_id"]), kind="fact",
                                  target=fact, before=machine, after=want, reason="模拟复核",
                                  evidence={"start": utt["start"], "end": utt["end"], "speaker": utt["speaker"],
                                            "text": utt["text"], "context": context})
    return corrections


def split_halves(calls: list[dict]) -> tuple[list[dict], list[dict]]:
    """Alternate calls (sorted by id): the first half is reviewed, the second scored."""
    ordered = sorted(calls, key=lambda c: str(c["call_id"]))
    return ordered[0::2], ordered[1::2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.review.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", type=Path, default=ROOT / "data" / "eval", help="evaluation calls (calls/*.json with turns and truth)")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "training" / "utterances.jsonl")
    parser.add_argument("--models", type=Path, default=ROOT / "models" / "classifiers")
    parser.add_argument("--install", action="store_true", help="install into --models when not worse (default: a temporary copy)")
    args = parser.parse_args(argv)
    calls = load_eval_calls(args.eval)
    reviewed, scored = split_halves(calls)
    work = Path(tempfile.mkdtemp(prefix="huifang-simulate-"))
    model_dir = args.models
    if not args.install:
        model_dir = work / "installed"
        shutil.copytree(args.models, model_dir)
    with closing(store.connect(work / "history.sqlite")) as conn:
        corrections = simulate_reviews(conn, reviewed, model_dir)
        print(f"{len(calls)} evaluation calls: {len(reviewed)} reviewed ({corrections} facts corrected), {len(scored)} scored")
        result = retrain_with_reviews(conn, base_data=args.data, eval_calls=scored, model_dir=model_dir, work_dir=work)
    print(result.format())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
