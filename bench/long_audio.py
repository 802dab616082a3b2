"""Peak memory and time of one long recording: windowed decoding and transcription vs the whole file at once.

    python -m bench.long_audio --minutes 60

Synthesises a long mono 8 kHz wav (the sample batch's mono calls, one after
another, with silence between them so that ``--speech-share`` of the file is
speech) in a temporary folder, then runs ``transcribe_call`` on it in a fresh
process per mode, so each peak RSS is that mode's own:

- windowed: the default ``window_s`` (600 s): the file is streamed window by window
- whole:    ``window_s`` larger than the file: decoded whole and fed whole to
            faster-whisper (the path every normal-length call takes)
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RATE = 8000
MONO_CALLS = ("C0004", "C0007", "C0008", "C0010", "C0012", "C0014", "C0016", "C0017", "C0025")


def _pcm(path: Path) -> np.ndarray:
    """A sample call as 8 kHz int16 mono."""
    import av

    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=RATE)
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray().ravel() for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    return np.concatenate(chunks).astype(np.int16)


def synthesise(minutes: float, speech_share: float, into: Path) -> Path:
    """Write ``minutes`` of 8 kHz mono wav made of sample calls and silence; returns its path."""
    calls = [_pcm(ROOT / "data" / "sample" / "audio" / f"{name}.wav") for name in MONO_CALLS]
    target = int(minutes * 60 * RATE)
    path = into / f"long_{minutes:g}min.wav"
    written, index = 0, 0
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        while written < target:
            speech = calls[index % len(calls)][: target - written]
            gap = np.zeros(min(int(len(speech) * (1 - speech_share) / speech_share), target - written - len(speech)), dtype=np.int16)
            out.writeframes(speech.tobytes() + gap.tobytes())
            written += len(speech) + len(gap)
            index += 1
    return path


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def child(mode: str, audio: Path, beam_size: int) -> dict:
    """One measurement in this process: load the model, transcribe ``audio`` once."""
    from pipeline.analyze import transcribe_call
    from pipeline.speech.asr import Transcriber
    from pipeline.config import Settings
    from pipeline.manifest import CallSpec

    window_s = 600.0 if mode == "windowed" else 10 * 24 * 3600.0
    settings = Settings.from_env(workers=1, beam_size=beam_size, window_s=window_s, max_duration_s=10 * 24 * 3600.0)
    transcriber = Transcriber(settings)
    loaded_mb = _rss_mb()
    call = CallSpec(call_id="LONG", audio_path=audio.name, row={}, line=2, batch_dir=audio.parent)
    started = time.perf_counter()
    utterances, duration, details = transcribe_call(call, transcriber)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "mode": mode,
        "audio_min": round(duration / 60, 1),
        "wall_s": round(wall, 1),
        "rtf": round(wall / duration, 3),
        "peak_rss_mb": round(peak_mb),
        "rss_after_model_mb": round(loaded_mb),
        "utterances": len(utterances),
        "chars": sum(len(u.text) for u in utterances),
        "windows": details.get("windows", 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_audio", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the synthetic recording (default 60)")
    parser.add_argument("--speech-share", type=float, default=0.25, help="share of the file that is speech (default 0.25)")
    parser.add_argument("--beam-size", type=int, default=1, help="beam size for both modes (default 1, to keep the run short)")
    parser.add_argument("--modes", default="windowed,whole", help="comma-separated: windowed, whole")
    parser.add_argument("--child", choices=["windowed", "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.audio, args.beam_size)))
        return 0
    with tempfile.TemporaryDirectory(prefix="huifang-long-") as tmp:
        started = time.perf_counter()
        audio = synthesise(args.minutes, args.speech_share, Path(tmp))
        print(f"synthesised {args.minutes:g} min ({args.speech_share:.0%} speech, 8 kHz wav, {audio.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - started:.1f} s")
        results = []
        for mode in args.modes.split(","):
            command = [sys.executable, "-m", "bench.long_audio", "--child", mode, "--audio", str(audio), "--beam-size", str(args.beam_size)]
            proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{mode}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                return 1
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]))
    print(f"\n{'mode':9} {'audio min':>9} {'wall s':>7} {'RTF':>6} {'peak RSS MB':>11} {'RSS after model MB':>18} {'windows':>7} {'chars':>6}")
    for r in results:
        print(f"{r['mode']:9} {r['audio_min']:9} {r['wall_s']:7} {r['rtf']:6} {r['peak_rss_mb']:11} {r['rss_after_model_mb']:18} {r['windows']:7} {r['chars']:6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
