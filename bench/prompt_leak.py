"""Which initial prompt: the old domain sentence against a neutral one, on the real set (plain and huifang).

Reports, does not assert: plain faster-whisper with the domain prompt copies
it into transcripts of hard audio (a leak), which is why the prompt carries no
fact words now and huifang cuts any six-character stretch of it.

    python -m bench.prompt_leak [--real DIR] [--versions wideband,telephone]
    python -m bench.prompt_leak --record telephone/<clip> --out tests/data/leaked_segments.json

``--record`` stores the segments huifang's decoder options produce on one clip
with the domain prompt (text, times, words, log-probabilities): the guard's
unit test replays them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# The prompt of versions 0.1.0 and 0.2.0: it names the facts extraction looks for.
DOMAIN_PROMPT = "以下是普通话的银行贷后回访电话录音，内容涉及贷款资金用途、还款、抵押物和经营情况。"


def main(argv: list[str] | None = None) -> int:
    from pipeline.speech.asr import Transcriber
    from pipeline.batch import effective_settings
    from pipeline.config import Settings
    from pipeline.facts.lexicon import load_lexicon
    from pipeline.evaluation.realset import evaluate_real, find_real_set, format_real

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=Path, default=None, help="the real set (default: found as the tests find it)")
    parser.add_argument("--versions", default="wideband,telephone")
    parser.add_argument("--prompts", default="domain,lexicon", help="domain (0.2.0's) and/or lexicon (today's)")
    parser.add_argument("--json", type=Path, default=None, help="write every transcript and score here")
    parser.add_argument("--record", default=None, help="version/clip[,version/clip...] to decode with the domain prompt; the first that leaks is stored")
    parser.add_argument("--sample", action="store_true", help="--record with huifang's temperature fallback (random) instead of temperature 0")
    parser.add_argument("--out", type=Path, default=None, help="where --record writes")
    args = parser.parse_args(argv)
    real = args.real or find_real_set()
    if real is None:
        raise SystemExit("no real set found: build it with scripts/make_real_set.py or set HUIFANG_REAL_SET")
    transcriber = Transcriber(effective_settings(Settings.from_env(workers=1)))
    if args.record:
        found = [record(transcriber, real / f"{clip}.wav", args.out, args.sample) for clip in args.record.split(",")]
        return 0 if 0 in found else 1
    results = {}
    for name, prompt in (("domain", DOMAIN_PROMPT), ("lexicon", load_lexicon().prompt)):
        if name not in args.prompts.split(","):
            continue
        print(f"== prompt {name}: {prompt}")
        results[name] = evaluate_real(real, None, prompt=prompt, transcriber=transcriber, versions=tuple(args.versions.split(",")))
        print(format_real(results[name]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def record(transcriber, path: Path, out: Path | None, sample: bool = False) -> int:
    """Decode ``path`` as huifang does, with the domain prompt, and store the raw segments."""
    from pipeline.speech.asr import VAD_PARAMETERS, prompt_runs
    from pipeline.speech.audio import decode

    samples = decode(path).channels[0]
    opts = transcriber.options() | {"initial_prompt": DOMAIN_PROMPT}
    segments, _info = transcriber.model.transcribe(
        samples, language="zh", beam_size=opts["beam_size"], vad_filter=True, vad_parameters=VAD_PARAMETERS,
        word_timestamps=True, initial_prompt=DOMAIN_PROMPT, condition_on_previous_text=False, temperature=opts["temperature"] if sample else [0.0],
        compression_ratio_threshold=opts["compression_ratio_threshold"], log_prob_threshold=opts["log_prob_threshold"],
        no_speech_threshold=opts["no_speech_threshold"])
    stored = [{"start": s.start, "end": s.end, "text": s.text, "avg_logprob": s.avg_logprob, "no_speech_prob": s.no_speech_prob,
               "words": [{"start": w.start, "end": w.end, "word": w.word, "probability": w.probability} for w in s.words or []]}
              for s in segments]
    leaked = [s["text"] for s in stored if prompt_runs(s["text"], DOMAIN_PROMPT)]
    print(json.dumps({"clip": path.name, "segments": [s["text"] for s in stored], "leaked": leaked}, ensure_ascii=False))
    if out and leaked and not out.exists():
        data = {"clip": f"{path.parent.name}/{path.name}", "prompt": DOMAIN_PROMPT, "decode": "huifang's options" + (", temperature fallback" if sample else ", temperature 0"),
                "seconds": round(len(samples) / 16000, 2), "segments": stored}
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0 if leaked else 1


if __name__ == "__main__":
    sys.exit(main())
