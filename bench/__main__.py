"""Speed and memory of huifang against plain faster-whisper, on the same audio and settings.

Each measurement runs in a fresh subprocess (so model loading and peak RSS are
its own) and is repeated; the table reports the median. Modes:

- plain:    faster-whisper alone (same model, beam, VAD, prompt; no word timestamps: a team without
            huifang has no use for them) over every channel
- pipeline: huifang's library in a plain loop, one call after another (no Prefect)
- here-1:   ``huifang run`` without a Prefect server (``--engine here``: the same steps on a thread pool, 1 worker)
- flow-1:   the Prefect nightly flow with 1 worker (``--engine prefect``; a temporary Prefect server)
- flow-2:   the Prefect nightly flow with 2 workers
- text:     the text stages alone on stored transcripts (calls per second, one core)

``--short`` runs plain, pipeline, here-1 and flow-1 on batches of real clips of about
2 s and 10 s and of sample calls of a minute, and prints the overhead against
plain per call length (short calls are a real night's unanswered, voicemail
and wrong-party calls).

``python -m bench cluster --workers 1,2,4`` instead measures a real cluster
(Prefect server, Dask scheduler, N worker processes): see bench/cluster.py.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _subset_batch(batch: Path, n: int, into: Path) -> Path:
    """A batch folder holding the first ``n`` calls of ``batch`` (all when n is 0)."""
    with open(batch / "manifest.csv", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    rows = rows[:n] if n else rows
    into.mkdir(parents=True, exist_ok=True)
    for row in rows:
        target = into / row["audio_path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(batch / row["audio_path"], target)
    with open(into / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return into


def run_mode(mode: str, batch: Path, out: Path) -> dict:
    """Run one measurement in this process; prints and returns its figures."""
    from pipeline.speech.audio import decode
    from pipeline.config import Settings

    # plain, pipeline, here-1 and flow-1 share one worker's settings (all cores to CTranslate2), so they compare.
    settings = Settings.from_env(workers=1)
    with open(batch / "manifest.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    audio_s = sum(decode(batch / r["audio_path"]).duration_s for r in rows)
    started = time.perf_counter()
    if mode == "plain":
        from faster_whisper.audio import decode_audio

        from pipeline.speech.asr import build_prompt
        from pipeline.batch import effective_settings
        from pipeline.facts.lexicon import load_lexicon
        from pipeline.speech.model_store import load_whisper

        settings = effective_settings(settings)
        model = load_whisper(settings)
        prompt = build_prompt(load_lexicon())
        for row in rows:
            path = str(batch / row["audio_path"])
            decoded = decode(batch / row["audio_path"])
            channels = decode_audio(path, split_stereo=True) if decoded.is_two_channel else [decode_audio(path)]
            for samples in channels:
                segments, _ = model.transcribe(samples, language="zh", beam_size=settings.beam_size, vad_filter=True,
                                               vad_parameters={"min_silence_duration_ms": 400, "speech_pad_ms": 200},
                                               word_timestamps=False, initial_prompt=prompt, condition_on_previous_text=False)
                list(segments)
    elif mode == "pipeline":
        from pipeline.batch import finish_batch, plan_batch, process_call

        calls, errors, ids = plan_batch(batch)
        records = [process_call(call, settings, out, force=True) for call in calls]
        finish_batch(batch, out, ids, settings, records, errors)
    elif mode.startswith("here-"):
        from pipeline.local_run import run_here

        run_here(batch, out, settings.with_(workers=int(mode.split("-")[1])), force=True)
    elif mode.startswith("flow-"):
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from flows.nightly import run_nightly

        run_nightly(batch, out, settings.with_(workers=int(mode.split("-")[1])), force=True)
    elif mode == "text":
        return _text_stages(out)
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds = time.perf_counter() - started
    figures = {"mode": mode, "seconds": round(seconds, 2), "audio_s": round(audio_s, 1), "rtf": round(seconds / audio_s, 4),
               "calls": len(rows), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(figures))
    return figures


def _text_stages(out: Path) -> dict:
    """Calls per second of every text stage on the transcripts a previous mode stored in ``out``."""
    from pipeline.analyze import analyze_transcript
    from pipeline.batch import load_classifiers_if_present
    from pipeline.facts.lexicon import load_lexicon
    from pipeline.speech.transcript import Utterance
    from threadpoolctl import threadpool_limits

    stored = [json.loads(p.read_text()) for p in sorted((out / "calls").glob("*.json"))]
    stored = [s for s in stored if s["status"] == "analyzed"]
    lexicon, classifiers = load_lexicon(), load_classifiers_if_present()
    calls = [([Utterance(start=u["start"], end=u["end"], text=u["text"], speaker=u["speaker"], norm_text=u.get("norm_text", u["text"]))
               for u in s["transcript"]], s.get("manifest") or {}, s["call_id"], s["duration_s"]) for s in stored]
    with threadpool_limits(limits=1):
        analyze_transcript(*calls[0][:2], call_id="warm", duration_s=1, lexicon=lexicon, classifiers=classifiers)
        rounds, started = 0, time.perf_counter()
        while time.perf_counter() - started < 3.0:
            for utterances, manifest, call_id, duration in calls:
                analyze_transcript(utterances, manifest, call_id=call_id, duration_s=duration, lexicon=lexicon, classifiers=classifiers)
            rounds += 1
        seconds = time.perf_counter() - started
    figures = {"mode": "text", "calls_per_s": round(rounds * len(calls) / seconds, 1), "calls": len(calls)}
    print(json.dumps(figures))
    return figures


def measure(mode: str, batch: Path, out: Path) -> dict:
    """One measurement in a fresh interpreter; peak RSS covers that process and its children."""
    result = subprocess.run([sys.executable, "-m", "bench", "--one", mode, "--batch", str(batch), "--work", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode not in (0, 3):
        raise SystemExit(f"bench mode {mode} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# Short-call batches: real clips near each length (tests/data/real) and sample calls for a minute.
SHORT_LENGTHS = {"2s": (1.0, 3.5), "10s": (6.5, 14.0)}


def _short_batches(real: Path, sample: Path, n_sample: int, into: Path, copies: int) -> dict[str, Path]:
    """One batch folder per call length: the real clips of that length (``copies`` times each, as
    different calls, so a batch has enough calls to spread fixed costs like a night does) and a minute."""
    from pipeline.evaluation.realset import load_clips

    batches = {}
    clips = load_clips(real)
    for name, (lo, hi) in SHORT_LENGTHS.items():
        chosen = [c for c in clips if lo <= c.seconds <= hi]
        folder = into / name
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for copy in range(copies):
            for clip in chosen:
                call_id = f"{clip.clip}-{copy}"
                shutil.copy(real / "wideband" / f"{clip.clip}.wav", folder / f"{call_id}.wav")
                rows.append({"call_id": call_id, "audio_path": f"{call_id}.wav"})
        with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["call_id", "audio_path"])
            writer.writeheader()
            writer.writerows(rows)
        batches[name] = folder
    batches["60s"] = _subset_batch(sample, n_sample, into / "60s")
    return batches


def short_calls(args) -> int:
    """Overhead against plain faster-whisper per call length, each mode in a fresh process."""
    from pipeline.evaluation.realset import find_real_set

    real = args.real or find_real_set()
    if real is None:
        raise SystemExit("no real set: build it with scripts/make_real_set.py (tests/data/real/README.md)")
    modes = args.modes.split(",") if args.modes != parser_default_modes() else ["plain", "pipeline", "here-1", "flow-1"]
    table: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="huifang-bench-") as tmp:
        batches = _short_batches(real, args.batch, args.calls or 3, Path(tmp) / "batches", args.copies)
        for length, batch in batches.items():
            runs: dict[str, list[dict]] = {}
            for _ in range(args.repeat):
                for mode in modes:
                    runs.setdefault(mode, []).append(measure(mode, batch, Path(tmp) / "out" / length))
            table[length] = {mode: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "audio_s", "calls")} for mode, rs in runs.items()}
    print(f"{'length':<7} {'calls':>5} {'audio s':>8} " + " ".join(f"{m + ' s':>11}" for m in modes) + "  " + " ".join(f"{m + '/plain':>15}" for m in modes if m != "plain"))
    for length, row in table.items():
        plain = row.get("plain", {}).get("seconds")
        ratios = {m: round(row[m]["seconds"] / plain, 3) for m in modes if m != "plain" and plain}
        row["over_plain"] = ratios
        first = row[modes[0]]
        print(f"{length:<7} {int(first['calls']):>5} {first['audio_s']:>8} " + " ".join(f"{row[m]['seconds']:>11}" for m in modes)
              + "  " + " ".join(f"{ratios.get(m, '-')!s:>15}" for m in modes if m != "plain"))
    out = args.results.with_name("short_calls.json") if args.results.name == "results.json" else args.results
    out.write_text(json.dumps({"short_calls": table, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                               "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}, indent=2) + "\n")
    print(f"written to {out}")
    return 0


def parser_default_modes() -> str:
    return "plain,pipeline,flow-1,flow-2,text"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cluster"]:  # python -m bench cluster ...: a real multi-process Dask cluster (bench/cluster.py)
        from bench.cluster import main as cluster_main

        return cluster_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=Path, default=ROOT / "data" / "sample", help="batch folder (default data/sample)")
    parser.add_argument("--calls", type=int, default=8, help="use the first N calls of the batch (0 = all; default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the median is reported (default 3)")
    parser.add_argument("--modes", default=parser_default_modes(), help="comma-separated modes (--short: plain,pipeline,here-1,flow-1)")
    parser.add_argument("--short", action="store_true", help="short-call batches: real clips of about 2 s and 10 s, and sample calls of a minute "
                        "(--calls of them); prints each mode's time and its overhead against plain faster-whisper per call length")
    parser.add_argument("--real", type=Path, default=None, help="the real set for --short (default: found as the tests find it)")
    parser.add_argument("--copies", type=int, default=2, help="--short: each real clip this many times in its batch (default 2)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json", help="where to write the figures")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_mode(args.one, args.batch, args.work)
        return 0
    if args.short:
        return short_calls(args)
    with tempfile.TemporaryDirectory(prefix="huifang-bench-") as tmp:
        batch = _subset_batch(args.batch, args.calls, Path(tmp) / "batch")
        runs: dict[str, list[dict]] = {}
        for _ in range(args.repeat):
            for mode in args.modes.split(","):
                runs.setdefault(mode, []).append(measure(mode, batch, Path(tmp) / "out"))
    summary = {}
    for mode, results in runs.items():
        keys = [k for k in results[0] if isinstance(results[0][k], (int, float)) and k != "calls"]
        summary[mode] = {k: statistics.median(r[k] for r in results) for k in keys} | {"calls": results[0]["calls"], "runs": len(results)}
    if "plain" in summary and "pipeline" in summary:
        summary["pipeline_over_plain"] = round(summary["pipeline"]["seconds"] / summary["plain"]["seconds"], 3)
    if "pipeline" in summary and "flow-1" in summary:
        per_call = (summary["flow-1"]["seconds"] - summary["pipeline"]["seconds"]) / summary["pipeline"]["calls"]
        summary["prefect_overhead_s_per_call"] = round(per_call, 3)
    if "flow-1" in summary and "flow-2" in summary:
        summary["speedup_2_workers"] = round(summary["flow-1"]["seconds"] / summary["flow-2"]["seconds"], 3)
    summary["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    summary["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    args.results.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'mode':<10} {'seconds':>8} {'RTF':>7} {'peak RSS MB':>12} {'calls/s':>8}")
    for mode in runs:
        m = summary[mode]
        print(f"{mode:<10} {m.get('seconds', '-')!s:>8} {m.get('rtf', '-')!s:>7} {m.get('peak_rss_mb', '-')!s:>12} {m.get('calls_per_s', '-')!s:>8}")
    for key in ("pipeline_over_plain", "prefect_overhead_s_per_call", "speedup_2_workers"):
        if key in summary:
            print(f"{key}: {summary[key]}")
    print(f"written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
