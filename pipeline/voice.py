"""Voice features per utterance: the acoustic half of telling agent from borrower on mono calls.

Words alone cannot tell who said 也就是说有三十万用在买房上了 when Whisper
drops its question mark. Two people on a call differ in voice (vocal tract,
pitch, microphone, distance to the phone), so once the words have attributed
the clear utterances, how those utterances *sound* says which voice is the
agent's, and that decides the unclear ones.

Each utterance is summarised by its long-term spectrum: the mean log energy of
24 mel bands over the telephone band (300-3400 Hz) in its louder frames, level
removed. Within one call, the confidently attributed utterances give an agent
and a customer mean; every utterance is projected on the line between them and
a one-dimensional two-Gaussian model turns the projection into log-odds. When
the two voices are not clearly apart (judged on leave-one-out projections, so
that chance differences between a few utterances of one voice do not count)
the model is not used: the voice then changes nothing.
"""
from __future__ import annotations

import math

import numpy as np

SAMPLE_RATE = 16_000
_FRAME = 400  # 25 ms
_HOP = 160  # 10 ms
_N_FFT = 512
_N_BANDS = 24
_LOW_HZ, _HIGH_HZ = 300.0, 3400.0
_MIN_FRAMES = 20
# The voice model is used only when the two voices are at least this many
# pooled standard deviations apart in held-out projections, with this many
# utterances of each.
MIN_SEPARATION = 0.5
MIN_UTTERANCES_PER_SPEAKER = 3
MAX_LOG_ODDS = 4.0


def _mel(hz: np.ndarray | float) -> np.ndarray | float:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_filters() -> np.ndarray:
    edges_mel = np.linspace(_mel(_LOW_HZ), _mel(_HIGH_HZ), _N_BANDS + 2)
    edges_hz = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(_N_FFT, 1.0 / SAMPLE_RATE)
    filters = np.zeros((_N_BANDS, len(bins)), dtype=np.float32)
    for band in range(_N_BANDS):
        lo, mid, hi = edges_hz[band : band + 3]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        filters[band] = np.clip(np.minimum(rising, falling), 0.0, None)
    return filters


_FILTERS = _mel_filters()
_WINDOW = np.hanning(_FRAME).astype(np.float32)


def utterance_voice(samples: np.ndarray, start: float, end: float) -> np.ndarray | None:
    """Level-free mean log-mel spectrum of the louder frames in [start, end], or None if too short."""
    a, b = int(max(0.0, start) * SAMPLE_RATE), int(max(0.0, end) * SAMPLE_RATE)
    segment = np.asarray(samples[a:b], dtype=np.float32)
    if len(segment) < _FRAME + _HOP * _MIN_FRAMES:
        return None
    n_frames = 1 + (len(segment) - _FRAME) // _HOP
    index = np.arange(_FRAME)[None, :] + _HOP * np.arange(n_frames)[:, None]
    power = np.abs(np.fft.rfft(segment[index] * _WINDOW, n=_N_FFT, axis=1)) ** 2
    bands = np.log(power @ _FILTERS.T + 1e-10)
    energy = bands.mean(axis=1)
    loud = energy >= np.percentile(energy, 50)  # speech frames, not the pauses between words
    if int(loud.sum()) < _MIN_FRAMES:
        return None
    frames = bands[loud] - bands[loud].mean(axis=1, keepdims=True)  # level-free frame spectra
    return np.concatenate([frames.mean(axis=0), frames.std(axis=0)]).astype(np.float64)


def _held_out_projections(agent: list[np.ndarray], customer: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """Each confident utterance projected on the agent-customer line fitted without it (leave-one-out).

    Fitted in-sample, a line through two means in 48 dimensions separates any
    few utterances, even of one voice; held out, it separates only real voices.
    """
    def project(v: np.ndarray, others_a: list[np.ndarray], others_c: list[np.ndarray]) -> float:
        mean_a, mean_c = np.mean(others_a, axis=0), np.mean(others_c, axis=0)
        direction = mean_a - mean_c
        norm = float(np.linalg.norm(direction)) or 1e-12
        return float((v - (mean_a + mean_c) / 2) @ direction) / norm

    held_a = [project(v, agent[:i] + agent[i + 1 :], customer) for i, v in enumerate(agent)]
    held_c = [project(v, agent, customer[:i] + customer[i + 1 :]) for i, v in enumerate(customer)]
    return held_a, held_c


def voice_log_odds(voices: list[np.ndarray | None], p_agent: list[float], *, confident: float = 0.8) -> list[float] | None:
    """Per-utterance log-odds of "agent" from the voice, fitted on the confident utterances; None if voices are not apart."""
    agent = [v for v, p in zip(voices, p_agent) if v is not None and p >= confident]
    customer = [v for v, p in zip(voices, p_agent) if v is not None and p <= 1 - confident]
    if min(len(agent), len(customer)) < MIN_UTTERANCES_PER_SPEAKER:
        return None
    held_a, held_c = _held_out_projections(agent, customer)
    mu_a, mu_c = float(np.mean(held_a)), float(np.mean(held_c))
    residuals = [x - mu_a for x in held_a] + [x - mu_c for x in held_c]
    sigma = math.sqrt(sum(r * r for r in residuals) / max(1, len(residuals) - 2)) or 1e-6
    if (mu_a - mu_c) / sigma < MIN_SEPARATION:
        return None
    mean_a, mean_c = np.mean(agent, axis=0), np.mean(customer, axis=0)
    direction = mean_a - mean_c
    direction /= float(np.linalg.norm(direction)) or 1e-12
    middle = (mean_a + mean_c) / 2
    odds = []
    for v in voices:
        if v is None:
            odds.append(0.0)
            continue
        x = float((v - middle) @ direction)
        llr = ((x - mu_c) ** 2 - (x - mu_a) ** 2) / (2 * sigma * sigma)
        odds.append(max(-MAX_LOG_ODDS, min(MAX_LOG_ODDS, llr)))
    return odds
