"""Voice features per utterance: the acoustic half of telling agent from borrower on mono calls.

Words alone cannot tell who said 也就是说有三十万用在买房上了 when Whisper
drops its question mark. Two people on a call differ in voice (vocal tract,
pitch, microphone, distance to the phone), so once the words have attributed
the clear utterances, how those utterances *sound* says which voice is the
agent's, and that decides the unclear ones.

Each utterance is described by its louder frames: 15 cepstral coefficients
(the DCT of 24 log mel bands over the telephone band, 300-3400 Hz, without
c0 so that loudness does not count). Within one call, the frames of the
confidently attributed utterances fit one full-covariance Gaussian per
speaker, and an utterance's score is its frames' mean log-likelihood ratio,
agent over customer: the classic GMM speaker-verification score, with one
component. Frames are many where utterances are few, which is why this beats
comparing utterance averages (on the sample's mono calls with held-out truth
labels: per-frame ratios of +2 to +10 nats for the agent and -1 to -6 for the
borrower wherever the two voices differ).

The scores are turned into log-odds by a one-dimensional two-Gaussian model
fitted on the confident utterances' *held-out* scores (each scored by models
fitted without it), and the voice is not used at all when those held-out
scores do not separate the two speakers: two similar voices then change
nothing.

Why not scikit-learn's ``GaussianMixture`` (issue 18): with one component and
diagonal covariance it attributes 24 of 335 utterances of the sample's 18 mono
calls differently and lowers mono speaker accuracy from 0.891 to 0.854
(reference characters, ``evaluate.speaker_chars``; the sample is data this
model was tuned on); the cepstra are correlated, which a diagonal model
ignores. With full covariance and no shrinkage it changes 8 utterances (0.916
on the same calls): a change of behaviour to measure on held-out voices first,
not part of a refactor that keeps outputs identical. Measured 2026-12-01 with
``python -m bench.voice_gaussian`` (the calls transcribed once, ``--deterministic``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

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


_N_CEPSTRA = 15
# DCT-II (orthonormal) rows 1..15: log-mel bands to cepstra, c0 (level) dropped
_DCT = (
    np.sqrt(2.0 / _N_BANDS)
    * np.cos(np.pi / _N_BANDS * (np.arange(_N_BANDS)[None, :] + 0.5) * np.arange(1, _N_CEPSTRA + 1)[:, None])
).astype(np.float64)
# Shrinks each covariance towards its diagonal, so that a few hundred frames give a stable inverse.
_SHRINK = 0.1
MIN_FRAMES_PER_SPEAKER = 100


def utterance_voice(samples: np.ndarray, start: float, end: float) -> np.ndarray | None:
    """Cepstra (frames x 15) of the louder frames in [start, end], or None if too short to judge."""
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
    return bands[loud].astype(np.float64) @ _DCT.T


@dataclass(frozen=True)
class _Gaussian:
    mean: np.ndarray
    precision: np.ndarray
    log_det: float

    @classmethod
    def fit(cls, frames: np.ndarray) -> "_Gaussian":
        cov = np.cov(frames, rowvar=False)
        cov = (1 - _SHRINK) * cov + _SHRINK * np.diag(np.diag(cov)) + 1e-6 * np.eye(len(cov))
        return cls(frames.mean(axis=0), np.linalg.inv(cov), float(np.linalg.slogdet(cov)[1]))

    def log_likelihood(self, frames: np.ndarray) -> np.ndarray:
        d = frames - self.mean
        return -0.5 * (np.einsum("ij,jk,ik->i", d, self.precision, d) + self.log_det)


def _score(frames: np.ndarray, agent: _Gaussian, customer: _Gaussian) -> float:
    """Mean per-frame log-likelihood ratio, agent over customer."""
    return float(np.mean(agent.log_likelihood(frames) - customer.log_likelihood(frames)))


def voice_log_odds(voices: list[np.ndarray | None], p_agent: list[float], *, confident: float = 0.8) -> list[float] | None:
    """Per-utterance log-odds of "agent" from the voice, fitted on the confident utterances; None if voices are not apart."""
    agent = [i for i, (v, p) in enumerate(zip(voices, p_agent)) if v is not None and p >= confident]
    customer = [i for i, (v, p) in enumerate(zip(voices, p_agent)) if v is not None and p <= 1 - confident]
    if min(len(agent), len(customer)) < MIN_UTTERANCES_PER_SPEAKER:
        return None

    def fit(indices: list[int], leave_out: int | None = None) -> _Gaussian | None:
        frames = [voices[i] for i in indices if i != leave_out]
        if sum(len(f) for f in frames) < MIN_FRAMES_PER_SPEAKER:
            return None
        return _Gaussian.fit(np.vstack(frames))

    model_a, model_c = fit(agent), fit(customer)
    if model_a is None or model_c is None:
        return None
    # held out: a line through any frames separates them from others, even of one voice
    held: dict[int, float] = {}
    for i in agent + customer:
        a = fit(agent, i) if i in agent else model_a
        c = fit(customer, i) if i in customer else model_c
        if a is None or c is None:
            return None
        held[i] = _score(voices[i], a, c)
    held_a, held_c = [held[i] for i in agent], [held[i] for i in customer]
    mu_a, mu_c = float(np.mean(held_a)), float(np.mean(held_c))
    residuals = [x - mu_a for x in held_a] + [x - mu_c for x in held_c]
    sigma = math.sqrt(sum(r * r for r in residuals) / max(1, len(residuals) - 2)) or 1e-6
    if (mu_a - mu_c) / sigma < MIN_SEPARATION:
        return None
    odds = []
    for i, v in enumerate(voices):
        if v is None:
            odds.append(0.0)
            continue
        x = held[i] if i in held else _score(v, model_a, model_c)
        llr = ((x - mu_c) ** 2 - (x - mu_a) ** 2) / (2 * sigma * sigma)
        odds.append(max(-MAX_LOG_ODDS, min(MAX_LOG_ODDS, llr)))
    return odds
