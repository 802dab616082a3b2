"""Record plain faster-whisper's output on a clip, and report whether it misbehaves.

The suite tests huifang's guards on *recorded* decoder output
(``tests/data/*.segments.json``), because a live decode differs across CPUs
and library versions: the same clip loops on one machine and not on another.
This script is where the proof that plain decoding misbehaves lives; it
reports on this machine and, with ``--save``, refreshes the recording.

    .venv/bin/python scripts/record_decoder_output.py tests/data/agent_greeting.wav tests/data/noise.wav*7
    .venv/bin/python scripts/record_decoder_output.py tests/data/agent_greeting.wav tests/data/noise.wav*7 \
        --save tests/data/greeting_then_noise.segments.json

Clips are joined in order; ``clip*N`` repeats a clip N times.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.speech.audio import decode  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.facts.lexicon import load_lexicon  # noqa: E402

LOOP = re.compile(r"(.{1,8}?)\1{5,}")

# Whisper's classic long-form settings: previous text as context, temperature 0,
# no thresholds and no VAD, the setting in which it loops on noise.
CLASSIC = dict(language="zh", beam_size=5, vad_filter=False, condition_on_previous_text=True, temperature=0.0,
               compression_ratio_threshold=None, log_prob_threshold=None, no_speech_threshold=None, word_timestamps=True)


@dataclass
class RecordedWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class RecordedSegment:
    """The fields of faster-whisper's ``Segment`` that huifang's guards read."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float = 0.0
    temperature: float = 0.0
    words: list[RecordedWord] = field(default_factory=list)


def load_segments(path: Path) -> list[RecordedSegment]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [RecordedSegment(**{**s, "words": [RecordedWord(**w) for w in s["words"]]}) for s in data["segments"]]


def joined_samples(clips: list[str]) -> np.ndarray:
    """The first channel of each clip (``path*N``: N times), joined in order, at 16 kHz."""
    parts = []
    for clip in clips:
        path, _, times = clip.partition("*")
        parts += [decode(Path(path)).channels[0]] * int(times or 1)
    return np.concatenate(parts).astype(np.float32)


def record(clips: list[str], prompt: str | None) -> tuple[list[RecordedSegment], dict]:
    from pipeline.speech.model_store import load_whisper

    model = load_whisper(Settings.from_env())
    segments, _ = model.transcribe(joined_samples(clips), initial_prompt=prompt, **CLASSIC)
    recorded = [RecordedSegment(s.start, s.end, s.text, s.avg_logprob, s.no_speech_prob, s.compression_ratio, s.temperature,
                                [RecordedWord(w.start, w.end, w.word, w.probability) for w in (s.words or [])])
                for s in segments]
    return recorded, {"clips": [Path(c).name for c in clips], "settings": CLASSIC, "prompt": prompt}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", help="audio files joined in order; path*N repeats one N times")
    parser.add_argument("--save", type=Path, help="write the recorded segments to this JSON file")
    parser.add_argument("--no-prompt", action="store_true", help="decode without the lexicon's prompt")
    args = parser.parse_args()
    segments, meta = record(args.clips, None if args.no_prompt else load_lexicon().prompt)
    from importlib import metadata

    from scripts.environment import cpu_model
    meta["recorded_on"] = {"cpu": cpu_model(), "ctranslate2": metadata.version("ctranslate2"), "faster-whisper": metadata.version("faster-whisper")}
    for s in segments:
        print(f"{s.start:6.2f}-{s.end:6.2f}  {s.text}")
    looped = [s for s in segments if LOOP.search(s.text)]
    print(f"plain decoding {'LOOPS' if looped else 'does not loop'} on {' + '.join(args.clips)} on this machine "
          f"({len(looped)} looped segment(s))")
    if args.save:
        payload = {**meta, "segments": [asdict(s) for s in segments]}
        args.save.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
