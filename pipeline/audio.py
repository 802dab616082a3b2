"""Decode a recording once into 16 kHz float32 channels (PyAV via faster-whisper)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AudioError

SAMPLE_RATE = 16_000
# Channels whose difference is this small are one mono signal recorded twice.
_DUAL_MONO_TOLERANCE = 1e-3
# Below this RMS (about -50 dBFS) a channel holds no speech worth decoding.
SILENCE_RMS = 0.003


@dataclass
class DecodedAudio:
    """The channels of one recording, resampled to 16 kHz mono float32 each."""

    path: Path
    channels: list[np.ndarray]  # one array per channel: [mono] or [left, right]
    source_channels: int  # channel count of the file as recorded
    source_rate: int

    @property
    def duration_s(self) -> float:
        return round(len(self.channels[0]) / SAMPLE_RATE, 3) if self.channels else 0.0

    @property
    def is_two_channel(self) -> bool:
        return len(self.channels) == 2


def _probe(path: Path) -> tuple[int, int]:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path.name}: no audio stream in the file")
            stream = container.streams.audio[0]
            return int(stream.channels or 1), int(stream.rate or 0)
    except AudioError:
        raise
    except Exception as exc:  # av.error.* for unknown or damaged containers
        raise AudioError(f"{path.name}: not a readable audio file ({exc.__class__.__name__}: {exc})") from exc


def decode(path: Path) -> DecodedAudio:
    """Decode ``path``; two-channel recordings keep their channels apart, dual mono collapses."""
    from faster_whisper.audio import decode_audio

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path.name}: file not found")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name}: file is empty (0 bytes)")
    n_channels, rate = _probe(path)
    try:
        if n_channels >= 2:
            left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            channels = [np.asarray(left, dtype=np.float32), np.asarray(right, dtype=np.float32)]
            if np.max(np.abs(channels[0] - channels[1]), initial=0.0) < _DUAL_MONO_TOLERANCE:
                channels = [channels[0]]
        else:
            channels = [np.asarray(decode_audio(str(path), sampling_rate=SAMPLE_RATE), dtype=np.float32)]
    except Exception as exc:
        raise AudioError(f"{path.name}: cannot decode audio ({exc.__class__.__name__}: {exc})") from exc
    if not channels or len(channels[0]) == 0:
        raise AudioError(f"{path.name}: no audio samples could be decoded (truncated or empty stream)")
    return DecodedAudio(path=path, channels=channels, source_channels=n_channels, source_rate=rate)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def is_silent(samples: np.ndarray) -> bool:
    """True when the loudest half-second window is below speech level."""
    window = SAMPLE_RATE // 2
    if len(samples) < window:
        return rms(samples) < SILENCE_RMS
    usable = samples[: len(samples) // window * window].reshape(-1, window)
    loudest = float(np.sqrt(np.max(np.mean(np.square(usable, dtype=np.float64), axis=1))))
    return loudest < SILENCE_RMS
