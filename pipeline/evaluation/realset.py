"""The real-speech regression set: huifang against plain faster-whisper on real Mandarin recordings.

Why: the sample batch is one synthetic voice. The real set (built by
``scripts/make_real_set.py``: public test and demo clips of speech toolkits,
with their published transcripts) holds the same clips twice, wideband
(16 kHz) and as telephone audio (8 kHz, 300-3400 Hz, A-law). Scored on both in
one run: CER of huifang and of plain faster-whisper (same model, beam 5, VAD,
the same prompt, nothing else), and two properties every transcript must have
whether or not a transcript was published: no run of six or more characters
of the prompt that was not spoken, no phrase said three or more times in a row
that was not spoken.
"""
from __future__ import annotations

import csv
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.speech.asr import prompt_runs
from pipeline.evaluation.evaluate import BASELINE_BEAM_SIZE, cer_text, edit_distance

VERSIONS = ("wideband", "telephone")
ROOT = Path(__file__).resolve().parents[2]
# A phrase of 2-12 characters said three or more times in a row (punctuation between copies ignored).
_REPEATED = re.compile(r"(.{2,12}?)\1{2,}")


@dataclass
class Clip:
    clip: str
    transcript: str  # "" when the source publishes none: only the properties are checked
    seconds: float = 0.0


@dataclass
class VersionScore:
    """One version of the set (wideband or telephone), one decoder."""

    texts: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def cer(self, clips: list[Clip]) -> float:
        errors = chars = 0
        for clip in clips:
            if clip.transcript:
                ref = cer_text(clip.transcript)
                errors += edit_distance(ref, cer_text(self.texts.get(clip.clip, "")))
                chars += len(ref)
        return round(errors / max(1, chars), 4)


def find_real_set() -> Path | None:
    """Where the set is: ``HUIFANG_REAL_SET``, ``tests/data/real``, or ``shared/real`` beside the repository."""
    candidates = [os.environ.get("HUIFANG_REAL_SET"), ROOT / "tests" / "data" / "real", ROOT.parent / "shared" / "real"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "transcripts.tsv").is_file() and (Path(candidate) / "wideband" / "manifest.csv").is_file():
            return Path(candidate)
    return None


def load_clips(real_dir: Path) -> list[Clip]:
    with open(Path(real_dir) / "transcripts.tsv", encoding="utf-8") as handle:
        return [Clip(row["clip"], row["transcript"], float(row["seconds"])) for row in csv.DictReader(handle, delimiter="\t")]


def unspoken_prompt_runs(text: str, prompt: str | None, spoken: str = "") -> list[str]:
    """Stretches of ``text`` (6+ characters) copied from ``prompt`` that the reference ``spoken`` does not contain."""
    said = cer_text(spoken)
    runs = [text[a:b] for a, b in prompt_runs(text, prompt)]
    return [run for run in runs if cer_text(run) not in said]


def unspoken_repeats(text: str, spoken: str = "") -> list[str]:
    """Phrases said three or more times in a row in ``text`` (punctuation ignored) but not in ``spoken``."""
    plain, said = cer_text(text), cer_text(spoken)
    return [m.group(0) for m in _REPEATED.finditer(plain) if m.group(0) not in said]


def plain_transcripts(paths: dict[str, Path], model, prompt: str | None) -> VersionScore:
    """Plain faster-whisper: one ``model.transcribe`` per file, beam 5, VAD, the prompt; nothing else."""
    score = VersionScore()
    started = time.perf_counter()
    for clip, path in paths.items():
        segments, _info = model.transcribe(str(path), language="zh", beam_size=BASELINE_BEAM_SIZE, vad_filter=True, initial_prompt=prompt)
        score.texts[clip] = "".join(segment.text for segment in segments)
    score.seconds = round(time.perf_counter() - started, 2)
    return score


def huifang_transcripts(batch_dir: Path, transcriber, classifiers=None) -> VersionScore:
    """huifang's library on every call of the batch folder: the transcript text of each call summary."""
    from pipeline.analyze import analyze_call
    from pipeline.manifest import read_manifest

    score = VersionScore()
    calls, _errors = read_manifest(batch_dir)
    started = time.perf_counter()
    for call in calls:
        summary = analyze_call(call, transcriber, classifiers)
        score.texts[call.call_id] = "".join(u["text"] for u in summary.get("transcript", []))
    score.seconds = round(time.perf_counter() - started, 2)
    return score


_LEXICON = object()


def evaluate_real(real_dir: Path, settings, prompt=_LEXICON, transcriber=None, versions=VERSIONS) -> dict:
    """Both versions, both decoders, in one run (one model load): CER, properties, time.

    ``prompt`` replaces the configured prompt for both decoders (to compare prompts).
    """
    from pipeline.speech.asr import Transcriber
    from pipeline.batch import effective_settings, load_classifiers_if_present

    real_dir = Path(real_dir)
    clips = load_clips(real_dir)
    transcriber = transcriber or Transcriber(effective_settings(settings))
    if prompt is not _LEXICON:
        transcriber.prompt = prompt
    classifiers = load_classifiers_if_present()
    prompt = transcriber.prompt
    result: dict = {"clips": len(clips), "with_transcript": sum(1 for c in clips if c.transcript),
                    "audio_s": round(sum(c.seconds for c in clips), 1), "versions": {}}
    for version in versions:
        batch = real_dir / version
        paths = {c.clip: batch / f"{c.clip}.wav" for c in clips}
        plain = plain_transcripts(paths, transcriber.model, prompt)
        ours = huifang_transcripts(batch, transcriber, classifiers)
        problems = {}
        for clip in clips:
            for name, score in (("huifang", ours), ("plain", plain)):
                text = score.texts.get(clip.clip, "")
                leaks, repeats = unspoken_prompt_runs(text, prompt, clip.transcript), unspoken_repeats(text, clip.transcript)
                if leaks or repeats:
                    problems.setdefault(name, {})[clip.clip] = {"prompt_runs": leaks, "repeats": repeats}
        result["versions"][version] = {
            "cer": {"huifang": ours.cer(clips), "plain": plain.cer(clips)},
            "seconds": {"huifang": ours.seconds, "plain": plain.seconds},
            "problems": problems,
            "texts": {c.clip: {"reference": c.transcript, "huifang": ours.texts.get(c.clip, ""), "plain": plain.texts.get(c.clip, "")} for c in clips},
        }
    return result


def format_real(result: dict) -> str:
    """The side-by-side table ``huifang eval --real`` prints."""
    lines = [f"real set: {result['clips']} clips ({result['with_transcript']} with a published transcript), {result['audio_s']} s of audio",
             f"{'':28}{'huifang':>10}{'plain faster-whisper':>24}"]
    for version, scores in result["versions"].items():
        lines.append(f"{'CER, ' + version:28}{scores['cer']['huifang']:>10}{scores['cer']['plain']:>24}")
    for version, scores in result["versions"].items():
        lines.append(f"{'seconds, ' + version:28}{scores['seconds']['huifang']:>10}{scores['seconds']['plain']:>24}")
    for version, scores in result["versions"].items():
        for name in ("huifang", "plain"):
            problems = scores["problems"].get(name, {})
            lines.append(f"{version} {name}: {len(problems)} clip(s) with an unspoken prompt run or repeated phrase"
                         + (": " + ", ".join(f"{k} {v}" for k, v in problems.items()) if problems else ""))
    return "\n".join(lines)
