"""Broken and unusual recordings, generated on the fly (PyAV, numpy) for the robustness tests.

Every file is made from the committed test clips or from nothing, so the bad
inputs are reproducible and nothing large is committed. ``make_all(folder)``
writes every case and returns {file name: what it is}.
"""
from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import numpy as np

from .conftest import SAMPLE, TEST_DATA


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """(samples as (channels, n) int16, rate) of a wav, decoded with PyAV."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    data = np.concatenate(chunks, axis=1)
    channels = stream.channels
    if data.shape[0] == 1 and channels > 1:  # packed: interleaved in one row
        data = data.reshape(-1, channels).T
    return data.astype(np.int16), rate


def write_wav(path: Path, samples: np.ndarray, rate: int, format_tag: int = 1) -> Path:
    """A plain RIFF/WAVE file of int16 ``samples`` shaped (channels, n); ``format_tag`` 1 is PCM."""
    samples = np.atleast_2d(samples).astype("<i2")
    channels = samples.shape[0]
    payload = samples.T.tobytes()
    fmt = struct.pack("<HHIIHH", format_tag, channels, rate, rate * channels * 2, channels * 2, 16)
    header = b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
    path.write_bytes(header + b"data" + struct.pack("<I", len(payload)) + payload)
    return path


def resample(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Linear-interpolation resampling of (channels, n) int16: enough for telephone speech."""
    n = samples.shape[1]
    new_n = int(round(n * new_rate / rate))
    x_old = np.arange(n) / rate
    x_new = np.arange(new_n) / new_rate
    return np.stack([np.interp(x_new, x_old, ch.astype(np.float64)) for ch in samples]).astype(np.int16)


def write_video_only(path: Path) -> Path:
    """An mp4 with one short mpeg4 video stream and no audio stream."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, dtype=np.uint8), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, 5)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_image(path: Path) -> Path:
    """A PNG image, the kind of file a wrong export puts in the audio folder."""
    import av

    with av.open(str(path), mode="w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), dtype=np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def speech() -> tuple[np.ndarray, int]:
    """The 5 s agent greeting (8 kHz mono): 您好，这里是东江农商银行贷后回访，本次通话将被录音。"""
    return read_pcm(TEST_DATA / "agent_greeting.wav")


def make_all(folder: Path) -> dict[str, str]:
    """Write every bad or unusual input into ``folder``; returns {file name: description}."""
    folder.mkdir(parents=True, exist_ok=True)
    greeting, rate = speech()
    phrase = greeting[:, : int(3.2 * rate)]  # 您好，这里是东江农商银行贷后回访 (ends in a pause): keeps the tests fast
    made: dict[str, str] = {}

    (folder / "empty.wav").write_bytes(b"")
    made["empty.wav"] = "zero bytes"
    (folder / "notes.wav").write_text("这不是录音，是一份文本说明。\nnot audio\n" * 20, encoding="utf-8")
    made["notes.wav"] = "a text file named .wav"
    mp3 = (SAMPLE / "audio" / "C0022.mp3").read_bytes()
    (folder / "cut.mp3").write_bytes(mp3[:300])
    made["cut.mp3"] = "an mp3 cut off after 300 bytes"
    wav = (TEST_DATA / "agent_greeting.wav").read_bytes()
    (folder / "cut.wav").write_bytes(wav[:50])
    made["cut.wav"] = "a wav cut off inside its first sample"
    (folder / "half.wav").write_bytes(wav[: len(wav) // 2])
    made["half.wav"] = "a wav cut off half-way (header promises twice the data)"
    write_video_only(folder / "video.mp4")
    made["video.mp4"] = "video only, no audio stream"
    write_image(folder / "photo.png")
    made["photo.png"] = "an image, no audio stream"
    write_wav(folder / "oddcodec.wav", greeting, rate, format_tag=0x7777)
    made["oddcodec.wav"] = "a wav header with an unknown format tag"
    write_wav(folder / "silence.wav", np.zeros((1, rate * 4), dtype=np.int16), rate)
    made["silence.wav"] = "4 s of digital silence"
    write_wav(folder / "short50ms.wav", greeting[:, int(1.0 * rate) : int(1.05 * rate)], rate)
    made["short50ms.wav"] = "0.05 s taken from speech"
    write_wav(folder / "short300ms.wav", greeting[:, int(1.0 * rate) : int(1.3 * rate)], rate)
    made["short300ms.wav"] = "0.3 s taken from speech"
    for new_rate in (11025, 22050, 44100, 48000):
        write_wav(folder / f"rate{new_rate}.wav", resample(phrase, rate, new_rate), new_rate)
        made[f"rate{new_rate}.wav"] = f"speech at {new_rate} Hz"
    quiet = np.zeros_like(phrase)
    write_wav(folder / "three_ch.wav", np.concatenate([phrase, quiet, quiet]), rate)
    made["three_ch.wav"] = "3 channels, speech on the first"
    write_wav(folder / "six_ch.wav", np.concatenate([quiet, quiet, phrase, quiet, quiet, quiet]), rate)
    made["six_ch.wav"] = "6 channels, speech on the third"
    return made


def write_encoded(path: Path, samples: np.ndarray, rate: int, codec: str, *, faststart: bool = True) -> Path:
    """``samples`` (mono int16, shape (1, n)) encoded with ``codec`` (aac for .m4a, mp3 for .mp3) by PyAV.

    ``faststart`` puts an m4a's index (moov) before the audio, as recorders that
    stream do; the mp3 muxer writes a Xing/Info header with the frame count.
    """
    import av

    options = {"movflags": "faststart"} if faststart and path.suffix == ".m4a" else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        step = 1024
        mono = np.atleast_2d(samples).astype(np.int16)
        for at in range(0, mono.shape[1], step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(mono[:, at : at + step]), format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = at
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def cut_short(source: Path, target: Path, keep: float | int) -> Path:
    """The first ``keep`` bytes of ``source`` (a share when below 1), as a recorder that died would leave it."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep) if keep < 1 else int(keep)])
    return target
