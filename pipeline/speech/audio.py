"""Decode a recording into 16 kHz float32 channels with PyAV: whole, or streamed in windows for long recordings."""
from __future__ import annotations

import gc
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import AudioError

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


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about its first audio stream, before decoding."""

    channels: int
    rate: int
    codec: str
    duration_s: float | None  # the container's estimate; None when it does not say


def _wav_format_tag(path: Path) -> int | None:
    """The format tag of a RIFF/WAVE file's fmt chunk (1 = PCM), None for other files."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at = head.find(b"fmt ")
    return struct.unpack("<H", head[at + 8 : at + 10])[0] if 0 <= at <= len(head) - 10 else None


def wav_truncation(path: Path) -> str | None:
    """A note when a WAV file holds less audio than its header promises (a recorder that died mid-call).

    FFmpeg decodes what is there without a word, so the call is analysed and
    the note travels with the result; None for complete or non-WAV files.
    """
    with open(path, "rb") as handle:
        head = handle.read(4096)
    size = Path(path).stat().st_size
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at, byte_rate = 12, 0
    while at + 8 <= len(head):
        chunk, length = head[at : at + 4], struct.unpack("<I", head[at + 4 : at + 8])[0]
        if chunk == b"fmt " and at + 20 <= len(head):
            byte_rate = struct.unpack("<I", head[at + 16 : at + 20])[0]
        if chunk == b"data":
            held = size - (at + 8)
            if length in (0, 0xFFFFFFFF) or held >= length or not byte_rate:  # streaming writers leave 0 / -1
                return None
            return f"{Path(path).name}: truncated: the header promises {length / byte_rate:.1f} s of audio, the file holds {held / byte_rate:.1f} s; analysed what is there"
        at += 8 + length + (length & 1)
    return None


# MPEG audio frame headers: bitrates (kbit/s) by (MPEG-1?, layer), sample rates by version bits, samples per frame.
_MP3_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class _Mp3Frame:
    length: int  # bytes, header included
    samples: int
    rate: int
    side_info: int  # bytes of side information after the 4-byte header (layer III)


def _mp3_frame(head: bytes) -> _Mp3Frame | None:
    """The MPEG audio frame whose 4-byte header is ``head``, None when it is no valid header."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate_index, rate_index, padding = head[2] >> 4, (head[2] >> 2) & 3, (head[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or free format (no length in the header)
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _MP3_BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    mono = head[3] >> 6 == 3
    if layer == 1:
        return _Mp3Frame((12 * bitrate // rate + padding) * 4, 384, rate, 0)
    if layer == 2 or mpeg1:
        side = (17 if mono else 32) if layer == 3 else 0
        return _Mp3Frame(144 * bitrate // rate + padding, 1152, rate, side)
    return _Mp3Frame(72 * bitrate // rate + padding, 576, rate, 9 if mono else 17)


def _mp3_declared_frames(data: bytes, at: int, frame: _Mp3Frame) -> int | None:
    """Frame count a Xing/Info or VBRI header in the first frame promises (encoders write it for that purpose)."""
    xing = at + 4 + frame.side_info
    if data[xing : xing + 4] in (b"Xing", b"Info"):
        flags = struct.unpack(">I", data[xing + 4 : xing + 8])[0]
        return struct.unpack(">I", data[xing + 8 : xing + 12])[0] if flags & 1 else None
    if data[at + 36 : at + 40] == b"VBRI":
        return struct.unpack(">I", data[at + 50 : at + 54])[0]
    return None


def _mp3_resync(data, at: int, end: int) -> int | None:
    """The next offset after ``at`` where two MPEG audio frames follow each other (what a decoder resyncs to)."""
    at = data.find(b"\xff", at + 1, end)
    while 0 <= at < end - 4:
        frame = _mp3_frame(data[at : at + 4])
        if frame is not None and (at + frame.length >= end or _mp3_frame(data[at + frame.length : at + frame.length + 4]) is not None):
            return at
        at = data.find(b"\xff", at + 1, end)
    return None


# Bytes of invalid data inside an mp3 (skipped by the decoder) worth a warning: about a second of telephone audio.
MP3_DAMAGE_BYTES = 4096


def mp3_truncation(path: Path) -> str | None:
    """A note when an mp3 is cut short or damaged: it ends inside a frame, holds fewer frames than its
    Xing/VBRI header says, or has invalid data between its frames.

    The frames are walked header to header (ID3 tags skipped, resyncing past
    invalid data as a decoder does); FFmpeg decodes a cut mp3 without
    complaint and estimates its length from the bytes that are there, so only
    the frames themselves show the cut.
    """
    import mmap

    path = Path(path)
    if path.stat().st_size < 4:
        return None
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _mp3_damage(path.name, data)


def _mp3_damage(name: str, data) -> str | None:
    end = len(data) - (128 if data[len(data) - 128 : len(data) - 125] == b"TAG" else 0)
    at = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        at = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F))
    first = _mp3_frame(data[at : at + 4])
    if first is None:
        return None  # not a plain MPEG audio stream: the decoder's own checks apply
    declared = _mp3_declared_frames(data, at, first)
    frames, samples, skipped = 0, 0, 0
    while at + 4 <= end:
        frame = _mp3_frame(data[at : at + 4])
        if frame is None:
            if data[at : at + 3] in (b"TAG", b"APE", b"LYR"):
                break  # trailing tags
            found = _mp3_resync(data, at, end)
            skipped += (found if found is not None else end) - at
            if found is None:
                break
            at = found
            continue
        if at + frame.length > end:
            heard = samples / first.rate
            return f"{name}: truncated: the mp3 ends inside an audio frame after {heard:.1f} s ({end - at} of {frame.length} bytes); analysed what is there"
        frames, samples, at = frames + 1, samples + frame.samples, at + frame.length
    heard = samples / first.rate
    if declared and frames + 1 < declared:  # the Xing/Info frame itself may or may not be counted
        promised = declared * first.samples / first.rate
        return f"{name}: truncated: the mp3 header promises {promised:.1f} s of audio, the file holds {heard:.1f} s; analysed what is there"
    if skipped >= MP3_DAMAGE_BYTES:
        return f"{name}: damaged: {skipped} bytes of invalid data between the audio frames were skipped; analysed the rest ({heard:.1f} s)"
    return None


# A recording that decodes this much shorter than its container declares was cut short (AAC priming and
# rounding differ by a few hundredths of a second).
SHORT_BY_S = 1.0
SHORT_BY_SHARE = 0.02


def audio_truncation(path: Path, info: AudioInfo, decoded_s: float, skipped_frames: int = 0) -> str | None:
    """The warning a damaged recording carries (``analysis.audio_warning``), None for a whole one.

    WAV: data chunk shorter than its header; mp3: the frames themselves
    (``mp3_truncation``); other containers (m4a, ogg, flac …): the duration
    the container declares against what decoded; any format: frames the
    decoder rejected.
    """
    path = Path(path)
    warning = wav_truncation(path)
    if warning is None and info.codec.startswith("mp3"):
        warning = mp3_truncation(path)
    elif warning is None and _wav_format_tag(path) is None and info.duration_s:
        if info.duration_s - decoded_s > max(SHORT_BY_S, SHORT_BY_SHARE * info.duration_s):
            warning = (
                f"{path.name}: truncated: the container declares {info.duration_s:.1f} s of audio, "
                f"only {decoded_s:.1f} s could be decoded; analysed what is there"
            )
    if warning is None and skipped_frames:
        warning = f"{path.name}: damaged: the decoder rejected {skipped_frames} audio frame(s), skipped; analysed the rest"
    return warning


def _nothing_decoded(path: Path) -> str:
    truncated = wav_truncation(path)
    if truncated:
        return truncated.replace("analysed what is there", "no audio to analyse")
    return f"{path.name}: no audio samples could be decoded (truncated or empty stream)"


def _no_decoder_message(path: Path) -> str:
    tag = _wav_format_tag(path)
    detail = f" (WAV format tag 0x{tag:04x})" if tag is not None else ""
    return f"{path.name}: unsupported audio codec{detail}: no decoder for its audio stream"


def _mp4_cut_before_index(path: Path) -> bool:
    """An MP4/M4A whose top-level boxes run past the end of the file with no ``moov`` box seen (a recorder that died)."""
    size = path.stat().st_size
    at, seen = 0, set()
    with open(path, "rb") as handle:
        while at + 8 <= size:
            handle.seek(at)
            head = handle.read(16)
            length, kind = struct.unpack(">I", head[:4])[0], head[4:8]
            if length == 1 and len(head) >= 16:
                length = struct.unpack(">Q", head[8:16])[0]
            if not kind.isalnum() and kind != b"free" or length < 8:
                return False
            seen.add(kind)
            if at + length > size:
                return b"ftyp" in seen and b"moov" not in seen
            at += length
    return False


def probe(path: Path) -> AudioInfo:
    """Open ``path`` and describe its audio stream; every unusable file raises AudioError naming the problem."""
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path.name}: file not found")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name}: file is empty (0 bytes)")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                kinds = sorted({s.type for s in container.streams}) or ["no streams"]
                raise AudioError(f"{path.name}: no audio stream in the file (it holds: {', '.join(kinds)})")
            stream = container.streams.audio[0]
            if stream.codec_context is None:
                raise AudioError(_no_decoder_message(path))
            duration = float(container.duration) / 1e6 if container.duration else None
            return AudioInfo(int(stream.codec_context.channels or 1), int(stream.codec_context.sample_rate or 0), stream.codec_context.name, duration)
    except AudioError:
        raise
    except EOFError as exc:
        raise AudioError(f"{path.name}: truncated or not audio: the file ends before any audio could be read") from exc
    except Exception as exc:  # av.error.* for unknown or damaged containers
        if _mp4_cut_before_index(path):
            raise AudioError(f"{path.name}: truncated: the file ends inside its audio data, before the index (moov) an MP4/M4A needs; no audio can be read") from exc
        reason = getattr(exc, "strerror", None) or str(exc)  # FFmpeg's reason without the full path
        raise AudioError(f"{path.name}: not a readable audio file ({reason}: not audio, or a damaged header)") from exc


def _mix_down(block: np.ndarray) -> np.ndarray:
    """Mean of the channels that carry sound (all of them when none does), as one (1, n) channel."""
    audible = [ch for ch in block if not is_silent(ch)]
    chosen = np.stack(audible) if audible else block
    return chosen.mean(axis=0, dtype=np.float32)[np.newaxis, :]


def _valid_frames(frames, skipped: list[int] | None) -> Iterator:
    """Frames the decoder accepts (faster-whisper skips invalid ones too), counting the rejected in ``skipped[0]``."""
    import av

    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            if skipped is not None:
                skipped[0] += 1


def iter_blocks(path: Path, info: AudioInfo, skipped: list[int] | None = None) -> Iterator[np.ndarray]:
    """Stream-decode ``path`` into (channels, n) float32 blocks at 16 kHz.

    One or two channels go through exactly faster-whisper's ``decode_audio``
    chain (s16, 500 000-sample groups, one resampler for the whole file), so
    the joined blocks equal what it returns, without holding the file in memory.

    Three or more channels: no telephony recorder we know puts the agent and the
    borrower on fixed channels of a 3+ channel file (conference bridges, surround
    exports), so picking two would be a guess. They are mixed down to one mono
    channel (the mean of the channels that carry sound, so a voice on one of six
    channels keeps its level) and speakers are attributed as on any mono call.

    Frames the decoder rejects are skipped and counted in ``skipped[0]``.
    """
    import av
    from faster_whisper.audio import _group_frames, _resample_frames

    layout = {1: "mono", 2: "stereo"}.get(info.channels)  # None keeps the source layout (3+ channels)
    resampler = av.audio.resampler.AudioResampler(format="s16", layout=layout, rate=SAMPLE_RATE)
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            frames = _resample_frames(_group_frames(_valid_frames(container.decode(audio=0), skipped), 500000), resampler)
            for frame in frames:
                n_channels = len(frame.layout.channels)
                block = frame.to_ndarray().reshape(-1, n_channels).T.astype(np.float32) / 32768.0
                yield _mix_down(block) if n_channels > 2 else block
    except AudioError:
        raise
    except Exception as exc:  # av.error.* raised mid-stream
        raise AudioError(f"{path.name}: cannot decode audio ({exc.__class__.__name__}: {exc})") from exc
    finally:
        del resampler
        gc.collect()  # PyAV's resampler objects are freed only by the collector (faster-whisper issue 390)


def is_dual_mono(channels: list[np.ndarray]) -> bool:
    """Two channels that differ by less than the tolerance are one mono signal recorded twice."""
    return len(channels) == 2 and np.max(np.abs(channels[0] - channels[1]), initial=0.0) < _DUAL_MONO_TOLERANCE


def decode(path: Path) -> DecodedAudio:
    """Decode ``path`` whole; two-channel recordings keep their channels apart, dual mono collapses.

    Meant for calls of normal length; long recordings go through ``iter_windows``.
    """
    path = Path(path)
    info = probe(path)
    blocks = list(iter_blocks(path, info))
    if not blocks or sum(b.shape[1] for b in blocks) == 0:
        raise AudioError(_nothing_decoded(path))
    joined = np.concatenate(blocks, axis=1)
    channels = [np.ascontiguousarray(ch) for ch in joined]
    if is_dual_mono(channels):
        channels = [channels[0]]
    return DecodedAudio(path=path, channels=channels, source_channels=info.channels, source_rate=info.rate)


@dataclass
class Window:
    """A stretch of a long recording: its channels and where it starts in the recording."""

    start_s: float
    channels: list[np.ndarray]

    @property
    def duration_s(self) -> float:
        return len(self.channels[0]) / SAMPLE_RATE


# The cut between windows goes to the quietest point of the window's last stretch of this length (at most).
CUT_SEARCH_S = 30.0
_CUT_FRAME = SAMPLE_RATE // 50  # 20 ms energy frames
_CUT_SMOOTH_FRAMES = 10  # quiet over 200 ms, not between two syllables


def quiet_cut(block: np.ndarray, search_n: int) -> int:
    """Sample index in the last ``search_n`` samples of ``block`` where all channels are quietest.

    Cutting there puts the window boundary in a pause, so no word is split.
    """
    n = block.shape[1]
    lo = max(0, n - search_n)
    region = block[:, lo:n]
    frames = region.shape[1] // _CUT_FRAME
    if frames <= _CUT_SMOOTH_FRAMES:
        return n
    energy = np.square(region[:, : frames * _CUT_FRAME], dtype=np.float64).reshape(region.shape[0], frames, _CUT_FRAME).mean(axis=(0, 2))
    smooth = np.convolve(energy, np.ones(_CUT_SMOOTH_FRAMES) / _CUT_SMOOTH_FRAMES, mode="valid")
    best = int(np.argmin(smooth))
    return lo + (best + _CUT_SMOOTH_FRAMES // 2) * _CUT_FRAME


def _too_long(path: Path, seconds: float, max_duration_s: float) -> AudioError:
    return AudioError(
        f"{path.name}: recording lasts {seconds / 3600:.2f} h, longer than the maximum of {max_duration_s / 3600:.2f} h "
        "(HUIFANG_MAX_DURATION_S); split the recording or raise the limit"
    )


def iter_windows(
    path: Path, window_s: float, max_duration_s: float | None = None, info: AudioInfo | None = None, skipped: list[int] | None = None
) -> Iterator[Window]:
    """Stream ``path`` as consecutive windows of at most ``window_s``, each cut at a pause.

    Memory stays at about one window plus one decoded block whatever the
    recording's length. A recording shorter than ``window_s`` comes out as one
    window equal to ``decode`` (dual mono is not collapsed here: see ``is_dual_mono``).
    """
    path = Path(path)
    info = info or probe(path)
    if max_duration_s and info.duration_s and info.duration_s > max_duration_s:
        raise _too_long(path, info.duration_s, max_duration_s)
    window_n = int(window_s * SAMPLE_RATE)
    search_n = int(min(CUT_SEARCH_S, window_s / 4) * SAMPLE_RATE)
    pending: list[np.ndarray] = []  # decoded blocks not yet handed out, joined only when a window is cut
    pending_n, done = 0, 0  # samples pending; samples already handed out
    for block in iter_blocks(path, info, skipped):
        pending.append(block)
        pending_n += block.shape[1]
        if max_duration_s and (done + pending_n) / SAMPLE_RATE > max_duration_s:
            raise _too_long(path, (done + pending_n) / SAMPLE_RATE, max_duration_s)
        while pending_n > window_n:
            joined = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
            cut = quiet_cut(joined[:, :window_n], search_n)
            yield Window(done / SAMPLE_RATE, [ch.copy() for ch in joined[:, :cut]])
            done, pending_n = done + cut, pending_n - cut
            pending = [joined[:, cut:].copy()]
    if pending_n > 0:
        joined = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
        yield Window(done / SAMPLE_RATE, [np.ascontiguousarray(ch) for ch in joined])
    elif done == 0:
        raise AudioError(_nothing_decoded(path))


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
