#!/usr/bin/env python3
"""Voice part of the frozen evaluation set (data/eval/calls) as an end-to-end batch, data/eval/voiced/.

Dev-only tool, like scripts/make_sample.py, whose TTS, telephone channel, layout and
encoders it reuses by import (same TTS venv and sox, see its docstring). The dialogue
text and the labels come from the eval call files, never from this script, so the
leak test of tests/test_eval_set.py has nothing to find here. What this script adds:

* its own voices, none of them one of the sample's twelve settings (other FastSpeech2
  f0 ratios, sox pitch shifts, tempi and levels), so the batch is not the sample's
  speakers saying new words;
* per call: mono or two-channel (agent left or right, with or without crosstalk, the
  manifest naming the agent's side or not), 16-bit wav, A-law wav or mp3, ringback or
  information tones before carrier messages; a third party who answers first gets a
  voice of their own but stays `customer`;
* truth.json in the shape of data/sample/truth.json (turn times as decoded, facts,
  flags, flag_severity, risk_level, agent_compliance, channels ...) plus conduct_level
  (contract v2), so that
  ``huifang eval data/eval/voiced --truth data/eval/voiced/truth.json`` scores it.

Run (deterministic for a seed)::

      .venv-tts/bin/python scripts/voice_eval.py                 # the calls of VOICED
      .venv-tts/bin/python scripts/voice_eval.py --only E004     # re-render some, keep the rest
      .venv-tts/bin/python scripts/voice_eval.py --show-pinyin   # review polyphone readings
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_sample as ms  # noqa: E402  (dev script beside this one)

ROOT = ms.ROOT
EVAL_CALLS = ROOT / "data" / "eval" / "calls"
OUT = ROOT / "data" / "eval" / "voiced"
SEED = 20261201

# Voices of this batch (none equal to a sample voice). Keys: f0 = FastSpeech2 pitch ratio,
# pitch = sox cents, tempo = sox tempo factor, gain = level relative to the agent.
VOICES = {
    "EAF1": {"f0": 0.96, "pitch": -20, "tempo": 1.08, "gain": 1.0},   # agent, female, lower
    "EAF2": {"f0": 1.10, "pitch": 50, "tempo": 1.18, "gain": 0.95},   # agent, female, quick
    "EAM1": {"f0": 0.82, "pitch": -40, "tempo": 1.05, "gain": 1.0},   # agent, male
    "EAM2": {"f0": 0.76, "pitch": -80, "tempo": 1.15, "gain": 1.05},  # agent, male, quick
    "ECM1": {"f0": 0.70, "pitch": -130, "tempo": 0.95, "gain": 0.75},  # borrower, male, slow
    "ECM2": {"f0": 0.64, "pitch": -170, "tempo": 1.12, "gain": 0.9},   # borrower, male, deep and quick
    "ECM3": {"f0": 0.60, "pitch": -160, "tempo": 0.92, "gain": 0.8},   # borrower, older male
    "ECM4": {"f0": 0.74, "pitch": -90, "tempo": 1.02, "gain": 0.7},    # borrower, male, quiet
    "ECF1": {"f0": 1.00, "pitch": 10, "tempo": 0.94, "gain": 0.7},     # borrower, female, quiet
    "ECF2": {"f0": 1.15, "pitch": 70, "tempo": 1.12, "gain": 0.85},    # borrower, young female
    "ECF3": {"f0": 0.88, "pitch": -60, "tempo": 1.0, "gain": 0.75},    # borrower, older female
    "ESYS": {"f0": 1.08, "pitch": 40, "tempo": 1.05, "gain": 0.85},    # carrier announcements
}

# call: channels, format (wav/pcm16, wav/alaw, mp3), agent side on two channels, whether the
# manifest names that side, crosstalk dB, tones before the first turn, agent voice, callee voice,
# and the voice of a third party who answers first (the call's first customer turn).
VOICED: dict[str, dict] = {
    "E001": dict(channels=2, fmt="wav/alaw", side="left", named=True, agent="EAF1", callee="ECM2"),
    "E002": dict(channels=1, fmt="mp3", agent="EAM1", callee="ECF3"),
    "E004": dict(channels=1, fmt="mp3", agent="EAF2", callee="ECM1"),
    "E005": dict(channels=2, fmt="mp3", side="right", named=False, agent="EAM2", callee="ECM3"),
    "E006": dict(channels=1, fmt="wav/alaw", tones=("ringback", 1), callee="ESYS"),
    "E007": dict(channels=1, fmt="wav/alaw", agent="EAF1", callee="ECM4"),
    "E008": dict(channels=2, fmt="wav/alaw", side="left", named=False, crosstalk=-38, agent="EAF2", callee="ECM1"),
    "E009": dict(channels=1, fmt="mp3", agent="EAM1", callee="ECM2"),
    "E010": dict(channels=1, fmt="wav/pcm16", agent="EAF1", callee="ECM2", third="ECF1"),
    "E011": dict(channels=2, fmt="wav/alaw", side="right", named=True, agent="EAM2", callee="ECM3"),
    "E013": dict(channels=1, fmt="mp3", callee="ESYS"),
    "E014": dict(channels=1, fmt="wav/alaw", agent="EAF2", callee="ECM4"),
    "E015": dict(channels=2, fmt="wav/alaw", side="left", named=False, agent="EAM1", callee="ECM3"),
    "E018": dict(channels=1, fmt="mp3", agent="EAF1", callee="ECM1"),
    "E020": dict(channels=2, fmt="mp3", side="right", named=True, crosstalk=-36, agent="EAM2", callee="ECM2"),
    "E021": dict(channels=1, fmt="wav/pcm16", agent="EAF2", callee="ECM3"),
    "E022": dict(channels=1, fmt="wav/alaw", agent="EAM1", callee="ECM4"),
    "E025": dict(channels=2, fmt="mp3", side="left", named=False, agent="EAF1", callee="ECF2"),
    "E028": dict(channels=1, fmt="wav/pcm16", tones=("info", 1), callee="ESYS"),
    "E029": dict(channels=1, fmt="mp3", agent="EAM2", callee="ECF1"),
    "E030": dict(channels=2, fmt="wav/alaw", side="right", named=False, agent="EAF2", callee="ECM1"),
    "E034": dict(channels=1, fmt="wav/alaw", tones=("ringback", 2), callee="ESYS"),
    "E036": dict(channels=1, fmt="mp3", tones=("ringback", 1), callee="ESYS"),
    "E037": dict(channels=1, fmt="wav/alaw", agent="EAM1", callee="ECF2"),
}

# Readings pypinyin gets wrong in these dialogues (added to make_sample's own fixes).
EXTRA_PRON_FIXES = {
    "能还": "neng2 huan2", "还贷": "huan2 dai4", "还着": "huan2 zhe5", "还了": "huan2 le5",
    "还完": "huan2 wan2", "还信用卡": "huan2 xin4 yong4 ka3", "底还我": "di3 huan2 wo3",
    "先还": "xian1 huan2", "还一个月": "huan2 yi2 ge4 yue4", "要还": "yao4 huan2",
    "还那点": "huan2 na4 dian3", "还点房": "huan2 dian3 fang2", "少还": "shao3 huan2",
    "都在还": "dou1 zai4 huan2", "月还一点": "yue4 huan2 yi4 dian3", "真还不上": "zhen1 huan2 bu2 shang4",
    "还不上了": "huan2 bu2 shang4 le5", "怎么还": "zen3 me5 huan2", "还给冷": "hai2 gei3 leng3",
    "项目的进": "xiang4 mu4 de5 jin4", "长海": "chang2 hai3", "翟": "zhai2", "苕溪": "tiao2 xi1",
}


def load_eval_call(call_id: str) -> dict:
    path = EVAL_CALLS / f"{call_id}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"{path}: cannot read the eval call ({exc})")


def render_spec(call: dict, cfg: dict, voices: dict | None = None, system_voice: str = "ESYS") -> dict:
    """The call in the shape make_sample.render_call expects.

    A third party speaks as 'third': the call's first customer turn, or its first
    ``cfg["third_turns"]``. ``voices``: the batch's voice table (this batch's by default).
    """
    table = VOICES if voices is None else voices
    fmt, _, encoding = cfg["fmt"].partition("/")
    turns = [dict(t) for t in call["turns"]]
    if cfg.get("third"):
        customer = [t for t in turns if t["speaker"] == "customer"]
        for turn in customer[: cfg.get("third_turns", 1)]:
            turn["speaker"] = "third"
    roles = {"agent": cfg.get("agent"), "customer": cfg["callee"], "system": system_voice, "third": cfg.get("third")}
    spec = {
        "call_id": call["call_id"], "turns": turns, "channels": cfg["channels"], "format": fmt,
        "encoding": encoding or "pcm16", "agent_side": cfg.get("side", "left"),
        "crosstalk_db": cfg.get("crosstalk"),
        "voices": {role: dict(table[name], voice=name) for role, name in roles.items() if name},
    }
    if cfg.get("tones"):
        kind, count = cfg["tones"]
        spec["pre_tones"] = {"kind": "ringback" if kind == "ringback" else "beep", "count": count}
    return spec


def truth_entry(call: dict, cfg: dict, spec: dict, rendered: dict) -> dict:
    truth = call["truth"]
    turns = rendered["turns"]
    for turn in turns:
        if turn["speaker"] == "third":
            turn["speaker"] = "customer"
    audio_rel = f"audio/{rendered['path'].name}"
    return {
        "call_outcome": truth["call_outcome"],
        "facts": truth["facts"],
        "fund_use_matches_contract": truth["fund_use_matches_contract"],
        "flags": list(truth["flags"]),
        "flag_severity": dict(truth["flags"]),
        "risk_level": truth["risk_level"],
        "conduct_level": truth["conduct_level"],
        "agent_compliance": truth["agent_compliance"],
        "channels": cfg["channels"],
        "agent_channel": cfg.get("side", "left") if cfg["channels"] == 2 else None,
        "manifest_agent_channel": manifest_agent_channel(cfg) or None,
        "audio_path": audio_rel,
        "format": cfg["fmt"],
        "duration_s": rendered["duration_s"],
        "codec_delay_s": rendered["codec_delay_s"],
        "voices": spec["voices"],
        "turns": turns,
        "non_speech": rendered["non_speech"],
        "reference": {s: "".join(t["text"] for t in turns if t["speaker"] == s) for s in ("agent", "customer", "system")},
        "description": f"eval call {call['call_id']}, voiced",
        "situations": call["style"],
    }


def manifest_agent_channel(cfg: dict) -> str:
    return cfg.get("side", "left") if cfg["channels"] == 2 and cfg.get("named") else ""


def check(out: Path, truth_calls: dict) -> list[str]:
    """Every file decodes to its channels and duration, and every turn is audible on its channel."""
    problems = []
    for cid, t in truth_calls.items():
        x = ms.decode(out / t["audio_path"])
        if x.shape[0] != t["channels"]:
            problems.append(f"{cid}: {x.shape[0]} channels, truth says {t['channels']}")
        if abs(x.shape[1] / ms.SR - t["duration_s"]) > 0.02:
            problems.append(f"{cid}: duration differs from truth")
        agent = 0 if t["agent_channel"] in (None, "left") else 1
        for turn in t["turns"]:
            ch = 0 if t["channels"] == 1 else (agent if turn["speaker"] == "agent" else 1 - agent)
            a, b = int(turn["start"] * ms.SR), int(turn["end"] * ms.SR)
            if b > x.shape[1] or np.sqrt((x[ch, a:b] ** 2).mean()) < 0.02:
                problems.append(f"{cid}: turn at {turn['start']} s not audible on channel {ch}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--only", default="", help="comma-separated call ids to re-render (others kept)")
    parser.add_argument("--show-pinyin", action="store_true")
    args = parser.parse_args(argv)

    ms.PRON_FIXES.update(EXTRA_PRON_FIXES)
    calls = {cid: load_eval_call(cid) for cid in VOICED}
    voice = ms.Voice(args.seed)
    if args.show_pinyin:
        ms.show_pinyin(voice, [t["text"] for c in calls.values() for t in c["turns"]])
        return 0

    truth_calls = render_batch(args.out, calls, VOICED, voice, args.seed, {c for c in args.only.split(",") if c}, render_spec, truth_entry)
    return report(args.out, truth_calls)


def render_batch(out: Path, calls: dict, voiced: dict, voice, seed: int, only: set[str], render, entry) -> dict:
    """Voice ``calls`` as laid out in ``voiced`` into ``out`` (audio/, manifest.csv, truth.json); returns the truth.

    ``render(call, cfg)`` gives make_sample's spec of a call, ``entry(call, cfg, spec, rendered)`` its truth; with ``only``, the other calls already
    in ``out`` are kept as they are. Shared with scripts/voice_dev.py.
    """
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    truth_path = out / "truth.json"
    old = json.loads(truth_path.read_text(encoding="utf-8"))["calls"] if truth_path.exists() else {}
    truth_calls = {}
    for cid, cfg in voiced.items():
        if only and cid not in only and cid in old:
            truth_calls[cid] = old[cid]
            continue
        spec = render(calls[cid], cfg)
        rendered = ms.render_call(spec, voice, seed, audio_dir)
        truth_calls[cid] = entry(calls[cid], cfg, spec, rendered)
        print(f"{cid}: {rendered['duration_s']:6.2f} s  {truth_calls[cid]['audio_path']}", flush=True)
    keep = {Path(t["audio_path"]).name for t in truth_calls.values()}
    for p in audio_dir.iterdir():
        if p.name not in keep:
            p.unlink()
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["call_id", "audio_path", "loan_id", "borrower_name", "called_at", "loan_amount",
                    "loan_purpose", "collateral", "agent_channel"])
        for cid, cfg in voiced.items():
            m = calls[cid]["manifest"]
            w.writerow([cid, truth_calls[cid]["audio_path"], m["loan_id"], m.get("borrower_name", ""), m.get("called_at", ""),
                        m.get("loan_amount", ""), m["loan_purpose"], m["collateral"], manifest_agent_channel(cfg)])
    truth_path.write_text(json.dumps({"schema_version": 2, "seed": seed, "calls": truth_calls},
                                     ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth_calls


def report(out: Path, truth_calls: dict) -> int:
    """Check the batch, print its size; 1 when a check failed."""
    problems = check(out, truth_calls)
    total = sum(t["duration_s"] for t in truth_calls.values())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(truth_calls)} calls, {total:.1f} s of audio, {size / 1e6:.2f} MB")
    if problems:
        print("PROBLEMS:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
