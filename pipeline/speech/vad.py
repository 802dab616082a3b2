"""Pauses in a mono recording (Silero VAD, shipped with faster-whisper).

On a mono call, the agent and the borrower share one channel and Whisper
often writes a question and its answer as one segment. Cutting at pauses of
about a fifth of a second gives stretches of speech that almost always belong
to one speaker (measured on the sample batch: every chunk was one speaker's),
so utterances are split there before speakers are attributed.
"""
from __future__ import annotations

import numpy as np

from pipeline.speech.audio import SAMPLE_RATE

MIN_PAUSE_MS = 220


def pause_points(samples: np.ndarray, min_pause_ms: int = MIN_PAUSE_MS) -> list[float]:
    """Midpoints (seconds) of the pauses between speech chunks."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=min_pause_ms, speech_pad_ms=60, min_speech_duration_ms=150)
    stamps = get_speech_timestamps(samples, options)
    return [(a["end"] + b["start"]) / 2 / SAMPLE_RATE for a, b in zip(stamps, stamps[1:])]
