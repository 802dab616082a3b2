"""Output folders for the workbench's tests, made from hand-written calls (tests/data/review_calls).

Each call's turns go through every text stage (``analyze_transcript``: rules,
classifiers, flags, risk), so the summaries are shaped exactly as a nightly run
writes them; the recording is a real 5 s wav. Two nights, one failed call, one
call with an unmasked transcript kept in ``restricted/``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "tests" / "data" / "review_calls"
CLIP = ROOT / "tests" / "data" / "two_channel_short.wav"
NIGHTS = {"2026-11-28": [f"R{i:03d}" for i in range(1, 11)], "2026-11-29": [f"R{i:03d}" for i in range(11, 21)]}
PHONE = "13812345678"


def eval_calls() -> dict[str, dict]:
    from pipeline.review.retrain import load_eval_calls

    return {c["call_id"]: c for c in load_eval_calls(CALLS)}


def build_review_root(base: Path) -> dict:
    """Write ``base/out/<night>/`` (calls, run.json, restricted/) and ``base/batches/<night>/audio``.

    Returns {"root": output root, "summaries": {(night, call_id): summary}}.
    """
    from pipeline.analyze import failed_summary
    from pipeline.facts.classify import default_model_dir, load_classifiers
    from pipeline.facts.lexicon import load_lexicon
    from pipeline.outputs.files import write_call, write_restricted
    from pipeline.review.retrain import analyse_eval_call

    calls = eval_calls()
    classifiers, lexicon = load_classifiers(default_model_dir()), load_lexicon()
    root = base / "out"
    summaries: dict[tuple[str, str], dict] = {}
    for night, ids in NIGHTS.items():
        batch, out = base / "batches" / night, root / night
        (batch / "audio").mkdir(parents=True)
        for call_id in ids:
            summary = analyse_eval_call(calls[call_id], classifiers, lexicon)
            summary["audio_path"] = f"audio/{call_id}.wav"
            shutil.copyfile(CLIP, batch / summary["audio_path"])
            summary["conduct_level"] = "none"
            summaries[(night, call_id)] = summary
        (out / "calls").mkdir(parents=True)
        (out / "run.json").write_text(json.dumps({"batch": str(batch)}), encoding="utf-8")
    first = "2026-11-28"
    # A threatening agent: as urgent as a high credit risk (contract v2 conduct_level).
    summaries[(first, "R007")]["conduct_level"] = "high"
    summaries[(first, "R007")]["facts"]["business_condition"]["needs_review"] = True
    failed = failed_summary("R099", {"loan_id": "L-T-099", "agent_id": "A07"}, "audio/R099.wav: 无法解码音频", audio_path="audio/R099.wav")
    summaries[(first, "R099")] = failed
    for (night, _), summary in summaries.items():
        write_call(root / night, summary)
    # The unmasked transcript of R002, as `huifang run --keep-raw-transcript` keeps it.
    raw = [dict(u, text=u["text"] + (f"我的电话是{PHONE}。" if u["speaker"] == "customer" and i == 1 else ""))
           for i, u in enumerate(summaries[(first, "R002")]["transcript"])]
    write_restricted(root / first, "R002", "key", raw)
    return {"root": root, "summaries": summaries}
