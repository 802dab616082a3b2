"""Build the real-speech regression set from public recordings, and its telephone version.

Why: every other recording the project is tested on comes from one synthetic
voice engine. These are real Mandarin recordings (read, spontaneous, far-field,
phone-recorded) from public speech toolkits' test and demo clips, with the
human transcripts those repositories ship (where they ship one).

Usage (the source repositories checked out or mirrored as bare git folders)::

    python scripts/make_real_set.py --mirrors /path/to/mirrors --out ../shared/real
    python scripts/make_real_set.py --telephone-only --out ../shared/real   # redo telephone/ from wideband/

``--mirrors`` holds one git folder per repository, named ``owner+name`` (with
``repo/`` or ``repo/.git`` inside). Every clip is read at the commit listed
below, mixed to mono, resampled to 16 kHz, trimmed of silence at both ends
(0.25 s kept) and written as 16-bit PCM. The telephone version of each clip
is band-passed to 300-3400 Hz, resampled to 8 kHz and written as A-law wav,
as a telephone recorder stores it. Writes::

    <out>/wideband/manifest.csv, <out>/wideband/<clip>.wav
    <out>/telephone/manifest.csv, <out>/telephone/<clip>.wav
    <out>/transcripts.tsv   clip, seconds, source, licence, transcript ("" when none is published)
    <out>/truth.json        the transcribed clips, shaped like a batch's truth (turns only)
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
PHONE_RATE = 8_000
KEEP_SILENCE_S = 0.25


@dataclass(frozen=True)
class Clip:
    clip: str
    repo: str  # owner/name on GitHub
    commit: str
    path: str
    licence: str
    transcript: str  # as the repository publishes it; "" when it publishes none
    kind: str  # what sort of speech
    cut: tuple[float | None, float | None] | None = None  # keep only [start, end) seconds of the trimmed clip


FIRERED = "834635e4cf277ed8ca92049fc375b17c3dc20748"
CLIPS = [
    Clip("aishell1_S0764W0121", "FireRedTeam/FireRedASR", FIRERED, "examples/wav/BAC009S0764W0121.wav",
         "Apache-2.0 (repository); AISHELL-1 corpus Apache-2.0", "甚至出现交易几乎停滞的情况", "read, close-talk"),
    Clip("aishell2_IT0011W0001", "FireRedTeam/FireRedASR", FIRERED, "examples/wav/IT0011W0001.wav",
         "Apache-2.0 (repository); from the AISHELL-2 corpus (its own terms: research use)", "换一首歌", "2 s voice command, phone-recorded"),
    Clip("wenetspeech_meeting", "FireRedTeam/FireRedASR", FIRERED, "examples/wav/TEST_MEETING_T0000000001_S00000.wav",
         "Apache-2.0 (repository); from WenetSpeech test_meeting (CC BY 4.0)",
         "好首先说一下刚才这个经理说完的这个销售问题咱再说一下咱们的商场问题首先咱们商场上半年业这个先各部门儿汇报一下就是业绩",
         "spontaneous, far-field meeting"),
    Clip("wenetspeech_net", "FireRedTeam/FireRedASR", FIRERED, "examples/wav/TEST_NET_Y0000000000_-KTKHdZ2fb8_S00000.wav",
         "Apache-2.0 (repository); from WenetSpeech test_net (CC BY 4.0)", "我有的时候说不清楚你们知道吗", "spontaneous, internet video"),
    Clip("aishell1_S0764W0122", "xingchensong/S3Tokenizer", "2abe1c503b863ec8c6ee7e98f86e25cd01f5f587",
         "s3tokenizer/assets/BAC009S0764W0122.wav", "Apache-2.0; AISHELL-1 corpus Apache-2.0", "一二线城市虽然也处于调整中", "read, close-talk"),
    Clip("aishell1_S0724W0121", "wenet-e2e/wenet", "015469960db73eb19c49a48c020d5ac9db69bae5",
         "test/resources/aishell-BAC009S0724W0121.wav", "Apache-2.0; AISHELL-1 corpus Apache-2.0", "广州市房地产中介协会分析", "read, close-talk"),
    Clip("wenet_mid", "wenet-e2e/wenet", "015469960db73eb19c49a48c020d5ac9db69bae5",
         "runtime/gpu/client/test_wavs/mid.wav", "Apache-2.0", "", "read"),
    Clip("wenet_long", "wenet-e2e/wenet", "015469960db73eb19c49a48c020d5ac9db69bae5",
         "runtime/gpu/client/test_wavs/long.wav", "Apache-2.0", "", "read"),
    Clip("funasr_example", "modelscope/FunASR", "3c58cb56a56598232c3efffa15d313d7e82a4307",
         "runtime/funasr_api/asr_example.wav", "MIT", "欢迎大家来体验达摩院推出的语音识别模型", "read, demo"),
    Clip("cosyvoice_prompt", "FunAudioLLM/CosyVoice", "ace7c47f41bbd303aa6bf1ea80e6f9fbd595cd40",
         "asset/zero_shot_prompt.wav", "Apache-2.0", "希望你以后能够做的比我还好呦", "expressive, 24 kHz"),
    Clip("cosyvoice_cross_lingual", "FunAudioLLM/CosyVoice", "ace7c47f41bbd303aa6bf1ea80e6f9fbd595cd40",
         "asset/cross_lingual_prompt.wav", "Apache-2.0", "", "not Mandarin-only: a prompt clip for cross-lingual synthesis"),
    Clip("kimi_asr_example", "MoonshotAI/Kimi-Audio", "2607d515f5b7dffa1dcc7526f9f26feb48e356c4",
         "test_audios/asr_example.wav", "MIT (README: parts not from Qwen2.5 are MIT)", "", "spontaneous"),
    Clip("kimi_qa_example", "MoonshotAI/Kimi-Audio", "2607d515f5b7dffa1dcc7526f9f26feb48e356c4",
         "test_audios/qa_example.wav", "MIT (README: parts not from Qwen2.5 are MIT)", "", "spoken question"),
    Clip("paddlespeech_test", "PaddlePaddle/PaddleSpeech", "969f33999fd6116a69831d098c1ab6f1e125129a",
         "audio/tests/features/testdata/test.wav", "Apache-2.0", "", "read"),
    # One second or less of a real recording, as a call that is answered with a word and dropped: on these,
    # plain faster-whisper with the 0.2.0 domain prompt wrote the prompt (回访电话录音, 以下是普通话的银行).
    Clip("aishell2_IT0011W0001_1s", "FireRedTeam/FireRedASR", FIRERED, "examples/wav/IT0011W0001.wav",
         "as aishell2_IT0011W0001", "", "its first second (换一…)", cut=(None, 1.0)),
    Clip("kimi_qa_example_end", "MoonshotAI/Kimi-Audio", "2607d515f5b7dffa1dcc7526f9f26feb48e356c4",
         "test_audios/qa_example.wav", "as kimi_qa_example", "", "its last 0.8 s", cut=(-0.8, None)),
    Clip("cosyvoice_prompt_1s", "FunAudioLLM/CosyVoice", "ace7c47f41bbd303aa6bf1ea80e6f9fbd595cd40",
         "asset/zero_shot_prompt.wav", "as cosyvoice_prompt", "", "its first second", cut=(None, 1.0)),
]


def _git_dir(mirrors: Path, repo: str) -> Path:
    base = mirrors / repo.replace("/", "+")
    for candidate in (base / "repo" / ".git", base / "repo", base):
        if (candidate / "HEAD").is_file():
            return candidate
    raise SystemExit(f"no git folder for {repo} under {mirrors}")


def _read_mono(data: bytes) -> tuple[np.ndarray, int]:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=SAMPLE_RATE)
        blocks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                blocks.append(out.to_ndarray()[0])
        for out in resampler.resample(None):
            blocks.append(out.to_ndarray()[0])
    return np.concatenate(blocks).astype(np.float32), rate


def trim_silence(samples: np.ndarray, rate: int = SAMPLE_RATE, keep_s: float = KEEP_SILENCE_S) -> np.ndarray:
    """Cut leading and trailing stretches quieter than 1/30 of the loudest 20 ms frame, keeping ``keep_s``."""
    frame = rate // 50
    n = len(samples) // frame
    if n == 0:
        return samples
    energy = np.sqrt(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1))
    loud = np.flatnonzero(energy > energy.max() / 30)
    keep = int(keep_s * rate)
    lo = max(0, loud[0] * frame - keep)
    hi = min(len(samples), (loud[-1] + 1) * frame + keep)
    return samples[lo:hi]


def to_telephone(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """300-3400 Hz band (4th-order Butterworth, both directions), resampled to 8 kHz."""
    from scipy.signal import butter, resample_poly, sosfiltfilt

    sos = butter(4, [300, 3400], btype="bandpass", fs=rate, output="sos")
    band = sosfiltfilt(sos, samples)
    return resample_poly(band, PHONE_RATE, rate).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int, codec: str) -> None:
    """Mono wav through PyAV: ``pcm_s16le`` for wideband, ``pcm_alaw`` for telephone."""
    import av

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm[np.newaxis, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _write_manifest(folder: Path, clips: list[str]) -> None:
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["call_id", "audio_path"])
        for clip in clips:
            writer.writerow([clip, f"{clip}.wav"])


def build(mirrors: Path | None, out: Path, telephone_only: bool = False) -> None:
    wide, phone = out / "wideband", out / "telephone"
    rows, truth = [], {}
    for clip in CLIPS:
        target = wide / f"{clip.clip}.wav"
        if not telephone_only:
            data = subprocess.run(["git", "--git-dir", str(_git_dir(mirrors, clip.repo)), "show", f"{clip.commit}:{clip.path}"],
                                  check=True, capture_output=True).stdout
            samples, _rate = _read_mono(data)
            samples = trim_silence(samples)
            if clip.cut is not None:
                lo, hi = (None if t is None else int(t * SAMPLE_RATE) for t in clip.cut)
                samples = samples[lo:hi]
            peak = float(np.abs(samples).max())
            if peak > 0.99:
                samples = samples * (0.99 / peak)
            write_wav(target, samples, SAMPLE_RATE, "pcm_s16le")
        samples, _rate = _read_mono(target.read_bytes())
        write_wav(phone / f"{clip.clip}.wav", to_telephone(samples), PHONE_RATE, "pcm_alaw")
        seconds = round(len(samples) / SAMPLE_RATE, 2)
        rows.append([clip.clip, seconds, f"github:{clip.repo}@{clip.commit[:12]}:{clip.path}", clip.licence, clip.kind, clip.transcript])
        if clip.transcript:
            truth[clip.clip] = {"turns": [{"start": 0.0, "end": seconds, "speaker": "unknown", "text": clip.transcript}]}
        print(f"{clip.clip:28} {seconds:6.2f} s")
    _write_manifest(wide, [c.clip for c in CLIPS])
    _write_manifest(phone, [c.clip for c in CLIPS])
    with open(out / "transcripts.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["clip", "seconds", "source", "licence", "kind", "transcript"])
        writer.writerows(rows)
    (out / "truth.json").write_text(json.dumps({"calls": truth}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, help="folder of owner+name git folders of the source repositories")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--telephone-only", action="store_true", help="only redo telephone/ from an existing wideband/")
    args = parser.parse_args(argv)
    if not args.telephone_only and args.mirrors is None:
        parser.error("--mirrors is needed unless --telephone-only")
    build(args.mirrors, args.out, args.telephone_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
