#!/usr/bin/env python3
"""Voice part of the hand-written dev calls (data/dev/calls) as an end-to-end batch, data/dev/voiced/.

Development data, to tune from-audio extraction on without looking at the frozen eval
set. Dev-only tool, the counterpart of scripts/voice_eval.py for data/dev: the same TTS
venv and sox (see scripts/make_sample.py's docstring), the same telephone channel,
layouts, encoders, truth shape and checks, all reused by import. What differs:

* its own voices (VOICES below), none of them one of the sample's twelve settings
  (scripts/sample_calls.json, sample_speech.json) or of voice_eval.VOICES;
* its own choice of 24 dev calls and their layouts (VOICED), and its own SEED;
* a third party who answers first may speak more than one turn (``third_turns``);
  they get a voice of their own but stay `customer` in the truth;
* the dev call files have no agent_compliance (make_dev_calls.py writes none): the
  truth has agent_compliance null (not scored by ``huifang eval``); the manifest
  columns the dev calls lack (called_at, loan_amount; borrower_name is empty there)
  stay empty.

The dialogue text and the labels come from the dev call files, never from this script.

Run (deterministic for a seed; under nice with one TF thread on a shared machine)::

      .venv-tts/bin/python scripts/voice_dev.py                 # the calls of VOICED
      .venv-tts/bin/python scripts/voice_dev.py --only D23      # re-render some, keep the rest
      .venv-tts/bin/python scripts/voice_dev.py --show-pinyin   # review polyphone readings
      .venv-tts/bin/python scripts/voice_dev.py --check         # only re-verify data/dev/voiced
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_sample as ms  # noqa: E402  (dev scripts beside this one)
import voice_eval as ve  # noqa: E402

ROOT = ms.ROOT
DEV_CALLS = ROOT / "data" / "dev" / "calls"
OUT = ROOT / "data" / "dev" / "voiced"
SEED = 20261215
SYSTEM_VOICE = "DSYS"

# Voices of this batch: none equal to a sample voice or an eval voice (other f0 ratios,
# small sox pitch shifts only). Keys: f0 = FastSpeech2 pitch ratio, pitch = sox cents,
# tempo = sox tempo factor, gain = level relative to the agent.
VOICES = {
    "DAF1": {"f0": 1.02, "pitch": 15, "tempo": 1.10, "gain": 1.0},     # agent, female
    "DAF2": {"f0": 1.18, "pitch": 65, "tempo": 1.06, "gain": 0.95},    # agent, female, higher
    "DAM1": {"f0": 0.80, "pitch": -50, "tempo": 1.10, "gain": 1.0},    # agent, male
    "DAM2": {"f0": 0.86, "pitch": -25, "tempo": 1.16, "gain": 1.05},   # agent, male, light and quick
    "DCM1": {"f0": 0.67, "pitch": -140, "tempo": 1.0, "gain": 0.8},    # borrower, male, deep
    "DCM2": {"f0": 0.71, "pitch": -120, "tempo": 1.08, "gain": 0.9},   # borrower, male, quick
    "DCM3": {"f0": 0.69, "pitch": -100, "tempo": 0.9, "gain": 0.75},   # borrower, older male, slow
    "DCM4": {"f0": 0.79, "pitch": -70, "tempo": 0.97, "gain": 0.72},   # borrower, male, quiet
    "DCF1": {"f0": 0.98, "pitch": -10, "tempo": 1.03, "gain": 0.78},   # borrower, female
    "DCF2": {"f0": 1.13, "pitch": 80, "tempo": 1.14, "gain": 0.88},    # borrower, young female
    "DCF3": {"f0": 0.90, "pitch": -45, "tempo": 0.93, "gain": 0.72},   # borrower, older female, quiet
    "DSYS": {"f0": 1.03, "pitch": 25, "tempo": 1.0, "gain": 0.9},      # carrier announcements
}

# call: channels, format (wav/pcm16, wav/alaw, mp3), agent side on two channels, whether the
# manifest names that side, crosstalk dB, tones before the first turn, agent voice, callee voice,
# and the voice of a third party who answers first (their first `third_turns` customer turns).
# Every not-connected (D50), wrong-party (D26, D37) and third-party (D25, D38) dev call, and a
# spread of the others over the facts and flags.
VOICED: dict[str, dict] = {
    "D01": dict(channels=2, fmt="wav/alaw", side="right", named=True, agent="DAF1", callee="DCM2"),
    "D06": dict(channels=1, fmt="mp3", agent="DAM1", callee="DCM3"),
    "D07": dict(channels=1, fmt="wav/pcm16", agent="DAF2", callee="DCF1"),
    "D09": dict(channels=2, fmt="mp3", side="left", named=False, agent="DAM2", callee="DCM1"),
    "D10": dict(channels=1, fmt="wav/alaw", agent="DAF1", callee="DCM4"),
    "D12": dict(channels=2, fmt="wav/pcm16", side="left", named=True, crosstalk=-37, agent="DAM1", callee="DCM2"),
    "D14": dict(channels=1, fmt="mp3", agent="DAF2", callee="DCM1"),
    "D15": dict(channels=1, fmt="wav/alaw", agent="DAM2", callee="DCF2"),
    "D16": dict(channels=2, fmt="wav/alaw", side="right", named=False, agent="DAF1", callee="DCM3"),
    "D17": dict(channels=1, fmt="mp3", agent="DAM1", callee="DCF3"),
    "D18": dict(channels=1, fmt="wav/pcm16", agent="DAF2", callee="DCM2"),
    "D19": dict(channels=2, fmt="mp3", side="right", named=True, crosstalk=-35, agent="DAM2", callee="DCM4"),
    "D20": dict(channels=1, fmt="wav/alaw", agent="DAF1", callee="DCM1"),
    "D23": dict(channels=1, fmt="mp3", agent="DAM1", callee="DCF2"),
    "D24": dict(channels=2, fmt="wav/alaw", side="left", named=False, agent="DAF2", callee="DCM3"),
    "D25": dict(channels=1, fmt="wav/alaw", agent="DAM2", callee="DCM2", third="DCF3", third_turns=2),
    "D26": dict(channels=1, fmt="mp3", tones=("ringback", 1), agent="DAF1", callee="DCF1"),
    "D29": dict(channels=2, fmt="wav/pcm16", side="right", named=False, agent="DAM1", callee="DCM4"),
    "D37": dict(channels=2, fmt="wav/alaw", side="left", named=True, agent="DAF2", callee="DCM1"),
    "D38": dict(channels=2, fmt="mp3", side="left", named=False, crosstalk=-39, agent="DAF1", callee="DCM3",
                third="DCM2", third_turns=2),
    "D39": dict(channels=1, fmt="mp3", agent="DAM2", callee="DCF1"),
    "D44": dict(channels=1, fmt="wav/alaw", agent="DAF2", callee="DCM4"),
    "D45": dict(channels=2, fmt="wav/alaw", side="right", named=True, agent="DAM1", callee="DCF3"),
    "D50": dict(channels=1, fmt="wav/alaw", tones=("ringback", 2), callee=SYSTEM_VOICE),
}


def _rotation(call_ids: list[str]) -> dict[str, dict]:
    """Layouts for the other 26 dev calls (added 2026-12-02): every fourth two-channel, the rest mono
    (where attribution goes wrong); agent voice, callee voice and format in rotation."""
    agents, callees, formats = ["DAF1", "DAM1", "DAF2", "DAM2"], ["DCM1", "DCF1", "DCM2", "DCF2", "DCM3", "DCF3", "DCM4"], ["wav/alaw", "mp3", "wav/pcm16"]
    layouts = {}
    for k, call_id in enumerate(call_ids):
        layout = dict(channels=1, fmt=formats[k % 3], agent=agents[k % 4], callee=callees[k * 3 % 7])
        if k % 4 == 3:
            layout.update(channels=2, side="left" if k % 8 == 3 else "right", named=k % 3 == 0)
        layouts[call_id] = layout
    return layouts


VOICED.update(_rotation([f"D{n:02d}" for n in range(1, 51) if f"D{n:02d}" not in VOICED]))


# Readings pypinyin gets wrong in these dialogues (added to make_sample's and voice_eval's fixes),
# from a --show-pinyin review of 还/行/长/重/得/地/了 and the other polyphones of the VOICED calls.
DEV_PRON_FIXES = {
    "营得": "ying2 de5", "得想": "dei3 xiang3", "也得": "ye3 dei3",  # pypinyin: de2
    "落在": "la4 zai4",  # left behind (手机落在我这), pypinyin: luo4
    "囤了": "tun2 le5",  # stocked up, pypinyin: dun4
    # 2026-12-02, for the other 26 calls:
    "还得上": "huan2 de5 shang4", "车贷在还": "che1 dai4 zai4 huan2", "是会还": "shi4 hui4 huan2",
    "看得拖": "kan4 dei3 tuo1", "嘛得紧": "ma5 dei3 jin3",
}


def load_dev_call(call_id: str) -> dict:
    path = DEV_CALLS / f"{call_id}.json"
    try:
        call = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"{path}: cannot read the dev call ({exc})")
    missing = {"call_id", "manifest", "style", "turns", "truth"} - set(call)
    if missing or call["call_id"] != call_id:
        raise SystemExit(f"{path}: not a dev call file (missing {sorted(missing)} or wrong call_id)")
    return call


def with_filled_truth(call: dict) -> dict:
    """A copy whose truth has what voice_eval.truth_entry reads: agent_compliance null when absent."""
    truth = dict(call["truth"])
    truth.setdefault("agent_compliance", None)  # the dev calls carry none (see the header)
    return dict(call, truth=truth)


def render_spec(call: dict, cfg: dict) -> dict:
    """voice_eval.render_spec with this batch's voices (a third party may speak several turns: ``third_turns``)."""
    return ve.render_spec(call, cfg, voices=VOICES, system_voice=SYSTEM_VOICE)


def truth_entry(call: dict, cfg: dict, spec: dict, rendered: dict) -> dict:
    entry = ve.truth_entry(with_filled_truth(call), cfg, spec, rendered)
    entry["description"] = f"dev call {call['call_id']}, voiced"
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--only", default="", help="comma-separated call ids to re-render (others kept)")
    parser.add_argument("--show-pinyin", action="store_true")
    parser.add_argument("--check", action="store_true", help="only verify an existing batch")
    args = parser.parse_args(argv)

    truth_path = args.out / "truth.json"
    if args.check:
        return ve.report(args.out, json.loads(truth_path.read_text(encoding="utf-8"))["calls"])

    assert not set(VOICES) & (set(ve.VOICES) | {"AF1", "AF2", "AM1", "AM2", "CM1", "CM2", "CM3", "CM4",
                                                  "CF1", "CF2", "CF3", "SYS"}), "voice names clash"
    ms.PRON_FIXES.update(ve.EXTRA_PRON_FIXES)
    ms.PRON_FIXES.update(DEV_PRON_FIXES)
    calls = {cid: load_dev_call(cid) for cid in VOICED}
    voice = ms.Voice(args.seed)
    if args.show_pinyin:
        ms.show_pinyin(voice, [t["text"] for c in calls.values() for t in c["turns"]])
        return 0

    truth_calls = ve.render_batch(args.out, calls, VOICED, voice, args.seed, {c for c in args.only.split(",") if c}, render_spec, truth_entry)
    return ve.report(args.out, truth_calls)


if __name__ == "__main__":
    sys.exit(main())
