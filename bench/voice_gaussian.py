"""The per-speaker Gaussian of ``speech/voice.py`` against scikit-learn's GaussianMixture, on the sample's mono calls.

Each mono call is transcribed once (``--deterministic``) and its utterances
are kept as they are before speaker attribution; attribution then runs again
with each voice model in place of ``voice._Gaussian``. Printed per model:
utterances attributed differently from the hand-written model, and mono
speaker accuracy by reference characters (``evaluate.speaker_chars``).

    python -m bench.voice_gaussian                       # transcribes (minutes), then compares
    python -m bench.voice_gaussian --captured calls.pkl  # keep or reuse the transcribed utterances

The sample is data the voice model was tuned on: a model that scores better
here still has to be measured on held-out voices (data/eval/voiced).
"""
from __future__ import annotations

import argparse
import copy
import json
import pickle
from pathlib import Path

from pipeline.batch import get_worker, load_classifiers_if_present
from pipeline.config import Settings
from pipeline.evaluation.evaluate import speaker_chars
from pipeline.facts.lexicon import load_lexicon
from pipeline.manifest import read_manifest
from pipeline.speech import speakers, voice

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


class SklearnGaussian:
    """``voice._Gaussian``'s interface over a one-component GaussianMixture."""

    covariance_type = "diag"

    def __init__(self, model) -> None:
        self.model = model

    @classmethod
    def fit(cls, frames):
        from sklearn.mixture import GaussianMixture

        return cls(GaussianMixture(n_components=1, covariance_type=cls.covariance_type, random_state=0).fit(frames))

    def log_likelihood(self, frames):
        return self.model.score_samples(frames)  # differs from voice's by a constant, which the ratio cancels


class SklearnFullGaussian(SklearnGaussian):
    covariance_type = "full"


def capture_mono_calls(batch: Path) -> dict:
    """call_id -> (utterances before attribution, samples) for every mono call of the batch."""
    import pipeline.speech.transcribe as transcribe

    captured: dict = {}
    original, current = transcribe.attribute_mono, [""]

    def keep(utterances, lexicon, classifiers=None, samples=None, voice_of=None):
        captured[current[0]] = (copy.deepcopy(utterances), None if samples is None else samples.copy())
        return original(utterances, lexicon, classifiers, samples=samples, voice_of=voice_of)

    transcribe.attribute_mono = keep
    try:
        worker = get_worker(Settings.from_env(deterministic=True, workers=1, cpu_threads=1))
        for call in read_manifest(batch)[0]:
            current[0] = call.call_id
            transcribe.transcribe_call(call, worker.transcriber, worker.classifiers)
    finally:
        transcribe.attribute_mono = original
    return captured


def attribute(captured: dict, model) -> dict[str, tuple[list[str], list]]:
    """Per call, with ``model`` as the voice Gaussian: each utterance's speaker, and the merged turns."""
    lexicon, classifiers, kept = load_lexicon(), load_classifiers_if_present(), voice._Gaussian
    voice._Gaussian = model
    out = {}
    try:
        for call_id, (utts, samples) in sorted(captured.items()):
            attributed = speakers.attribute_mono(copy.deepcopy(utts), lexicon, classifiers, samples=samples)
            out[call_id] = ([u.speaker for u in attributed], speakers.merge_turns(attributed))
    finally:
        voice._Gaussian = kept
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=Path, default=SAMPLE)
    parser.add_argument("--captured", type=Path, help="pickle of the transcribed mono calls: read if it exists, else written")
    args = parser.parse_args()
    if args.captured and args.captured.is_file():
        captured = pickle.loads(args.captured.read_bytes())
    else:
        captured = capture_mono_calls(args.batch)
        if args.captured:
            args.captured.write_bytes(pickle.dumps(captured))
    truth = json.loads((args.batch / "truth.json").read_text(encoding="utf-8"))["calls"]
    baseline: dict[str, list[str]] = {}
    for name, model in (("hand-written", voice._Gaussian), ("GaussianMixture diag", SklearnGaussian), ("GaussianMixture full", SklearnFullGaussian)):
        results = attribute(captured, model)
        good = total = changed = 0
        for call_id, (who, turns) in results.items():
            g, t = speaker_chars(truth[call_id], {"transcript": [u.to_json() for u in turns]})
            good, total = good + g, total + t
            changed += sum(a != b for a, b in zip(who, baseline.setdefault(call_id, who)))
        utterances = sum(len(who) for who, _ in results.values())
        print(f"{name:22s} mono speaker accuracy {good / max(1, total):.4f} ({good}/{total} chars, {len(results)} calls); "
              f"utterances attributed unlike hand-written: {changed} of {utterances}")


if __name__ == "__main__":
    main()
