"""Batch-level library functions the nightly flow calls: workers, idempotency keys, finishing a run.

Kept free of Prefect so the same functions run in a plain loop, in tests, and
in any orchestrator.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from pipeline import __version__
from pipeline.analyze import analyze_call_keeping_raw, failed_summary
from pipeline.attempts import count_model_load, remove_attempt_dir, retried_calls, summarise_workers
from pipeline.config import Settings
from pipeline.errors import HuifangError
from pipeline.labels import SCHEMA_VERSION
from pipeline.manifest import CallSpec, RowError, read_manifest
from pipeline.speech.model_store import sha256_of
from pipeline.outputs.files import FILE_MODE, atomic_write_text, call_json_path, read_call, remove_stale_temps, restricted_key, write_call, write_parquet, write_restricted
from pipeline.outputs.privacy import mask_pii

_workers: dict[tuple, "Worker"] = {}
_workers_lock = threading.Lock()


@dataclass
class Worker:
    """What one worker process keeps loaded: the Whisper model, lexicon and classifiers."""

    settings: Settings
    transcriber: object
    classifiers: object | None


def effective_settings(settings: Settings) -> Settings:
    """Split the cores between workers when no thread count was given (2 workers on 2 cores: 1 thread each)."""
    if settings.cpu_threads:
        return settings
    cores = os.cpu_count() or 1
    return settings.with_(cpu_threads=max(1, cores // settings.workers))


def load_classifiers_if_present():
    """The shipped fact classifiers, or None when none are installed (rules still decide)."""
    from pipeline.facts.lexicon import models_dir

    directory = models_dir() / "classifiers"
    if not (directory / "metadata.json").is_file():
        return None
    from pipeline.facts.classify import load_classifiers

    return load_classifiers(directory)


def get_worker(settings: Settings) -> Worker:
    """The process's worker for these settings, created once (model loaded once per process)."""
    settings = effective_settings(settings)
    key = tuple(sorted(settings.describe().items()))
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None:
            worker = _load_worker(settings)
            count_model_load()
            _workers[key] = worker
        return worker


def start_preload(calls: list[CallSpec], settings: Settings, out_dir: Path, force: bool = False) -> threading.Thread | None:
    """Load this process's worker in a thread now, when calls here will need it (None when none will).

    Why: the nightly flow's own start (Prefect's temporary server: about 6 s,
    in another process) and the worker's load (Whisper, classifiers, tables:
    about 5 s of this process) used to run one after the other; on a batch of
    short calls they were a third of the night (issue 17). A failed load is
    left for the first call, which loads again and records the error.
    """
    if not force and all(call_json_path(out_dir, call.call_id).is_file() for call in calls):
        return None  # a rerun of a finished batch may need no model at all

    def load() -> None:
        try:
            get_worker(settings)
        except Exception:  # noqa: BLE001 - the first call meets the same error and reports it
            pass

    thread = threading.Thread(target=load, name="huifang-preload", daemon=True)
    thread.start()
    return thread


def _load_worker(settings: Settings) -> Worker:
    """Whisper and the classifiers now; the text stages' tables in a thread while the first calls decode.

    The tables (jieba's dictionary, the sound indexes, the homophone model:
    about 1 s of Python) are first needed when a decoded segment is corrected,
    and Whisper's decoding runs in CTranslate2 without holding the
    interpreter, so building them beside the first decode costs little of
    either; on a batch of 2-second calls that second was a tenth of the night
    (issue 17). Calls wait for the tables (``Transcriber.wait_for_text_tables``)
    before any text stage reads them, so no table is built twice or read half-built.
    """
    from pipeline.speech.asr import Transcriber

    classifiers = load_classifiers_if_present()
    transcriber = Transcriber(settings)
    transcriber.text_tables = threading.Event()
    threading.Thread(target=_build_text_tables, args=(classifiers, transcriber.text_tables),
                     name="huifang-text-tables", daemon=True).start()
    return Worker(settings, transcriber, classifiers)


def _build_text_tables(classifiers, ready: threading.Event) -> None:
    """The text stages' tables, then the modules that finishing a batch imports, then ``gc.freeze()``.

    Frozen afterwards, the loaded objects are no longer scanned by every
    ``gc.collect()`` (one per decoded file: 0.14 s each with them, issue 17).
    A failed build is left for the first call, which meets the same error and reports it.
    """
    import gc

    from pipeline.text import readings

    try:
        _warm_text_stages(classifiers)
        readings.save()  # the sound indexes' readings, for the next process's start
    except Exception:  # noqa: BLE001 - reported by the first call that needs the tables
        pass
    finally:
        ready.set()
    try:
        _import_batch_outputs()
    except Exception:  # noqa: BLE001 - finish_batch imports them again and reports
        pass
    gc.collect()
    gc.freeze()


def _import_batch_outputs() -> None:
    """Import what ``finish_batch`` writes with (pyarrow, which imports pandas; openpyxl; the report's
    compiled templates) while calls decode: half a second of a short batch's end (issue 17)."""
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from pipeline.outputs.report import report_environment

    environment = report_environment()
    for name in environment.list_templates(extensions=["html"]):
        environment.get_template(name)


def _warm_text_stages(classifiers) -> None:
    """Run the text stages once on a made-up exchange, so their lazily built tables exist before the first call."""
    from pipeline.analyze import analyze_transcript
    from pipeline.speech.transcript import Utterance

    exchange = [
        Utterance(start=0.0, end=2.0, speaker="agent", text="您好，这里是银行贷后回访，请问贷款用在哪里了？"),
        Utterance(start=2.5, end=5.0, speaker="customer", text="嗯，主要是进货，还款没问题。"),
    ]
    analyze_transcript(exchange, {}, call_id="warm-up", duration_s=5.0, classifiers=classifiers)


@lru_cache(maxsize=1)
def models_fingerprint() -> str:
    """Hash of the rule, lexicon, vocabulary and classifier files: editing any of them redoes the calls."""
    from pipeline.facts.lexicon import models_dir

    directory = models_dir()
    digest = hashlib.sha256()
    for name in ("lexicon.json", "patterns.jsonl", "vocabulary.txt", "classifiers/metadata.json"):
        path = directory / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    return digest.hexdigest()[:16]


def call_key(call: CallSpec, settings: Settings) -> str:
    """Identity of one analysis: audio content, pipeline version, model and decoding settings."""
    parts = {
        "audio": sha256_of(call.audio_file),
        "pipeline": __version__,
        "model": settings.model,
        "compute_type": settings.compute_type,
        "beam_size": settings.beam_size,
        "batch_size": settings.batch_size,
        "prompt": settings.prompt,
        "deterministic": settings.deterministic,
        "window_s": settings.window_s,
        "models": models_fingerprint(),
        "manifest": call.row,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def finished_summary(out_dir: Path, call: CallSpec, key: str, keep_raw: bool = False) -> dict | None:
    """The stored summary of this exact analysis, when a previous run finished it.

    With ``keep_raw`` a call counts as finished only when its restricted
    transcript of the same analysis is there too (an earlier run may have had
    the option off).
    """
    if keep_raw and restricted_key(out_dir, call.call_id) != key:
        return None
    path = call_json_path(out_dir, call.call_id)
    if not path.is_file():
        return None
    try:
        summary = read_call(path)
    except (OSError, ValueError):
        return None
    if summary.get("schema_version") != SCHEMA_VERSION:
        return None  # written under an older contract (a v1 output folder): analysed again
    if summary.get("status") == "analyzed" and (summary.get("analysis") or {}).get("key") == key:
        return summary
    return None


# I/O errors that a network share or a busy disk produce and that go away on a second try.
TRANSIENT_ERRNOS = {errno.EIO, errno.EAGAIN, errno.ETIMEDOUT, errno.ESTALE, errno.ECONNRESET, errno.EBUSY}


class TransientError(HuifangError):
    """A failure worth retrying (the orchestrator retries; the call is not marked failed yet)."""


def process_call(call: CallSpec, settings: Settings, out_dir: Path, *, force: bool = False) -> dict:
    """Analyse one call unless already done, write its JSON, return a short status record.

    Raises TransientError for I/O errors that may pass; every other problem
    becomes the call's own ``failed`` summary.
    """
    try:
        key = call_key(call, settings)
    except OSError as exc:
        if exc.errno in TRANSIENT_ERRNOS:
            raise TransientError(f"{call.audio_path}: {exc}") from exc
        summary = failed_summary(call.call_id, call.row, f"{call.audio_path}: cannot read audio file ({exc})", audio_path=call.audio_path)
        write_call(out_dir, summary)
        return {"call_id": call.call_id, "status": "failed", "skipped": False, "error": summary["error"]}
    if not force:
        done = finished_summary(out_dir, call, key, settings.keep_raw_transcript)
        if done is not None:
            return {"call_id": call.call_id, "status": "analyzed", "skipped": True, "error": None}
    raw = None
    try:
        worker = get_worker(settings)
        summary, raw = analyze_call_keeping_raw(call, worker.transcriber, worker.classifiers)
    except HuifangError as exc:  # e.g. the model cannot be loaded: every call fails the same way
        summary = failed_summary(call.call_id, call.row, str(exc), audio_path=call.audio_path)
    except Exception as exc:  # noqa: BLE001 - one broken recording never stops the batch
        summary = failed_summary(call.call_id, call.row, f"{call.audio_path}: unexpected error {exc.__class__.__name__}: {exc}", audio_path=call.audio_path)
    if summary["status"] == "analyzed":
        summary["analysis"]["key"] = key
        if settings.keep_raw_transcript and raw is not None:
            write_restricted(out_dir, call.call_id, key, raw)  # before the summary: a finished call always has it
    write_call(out_dir, summary)
    return {"call_id": call.call_id, "status": summary["status"], "skipped": False, "error": summary.get("error")}


def give_up_call(call: CallSpec, out_dir: Path, error: Exception) -> dict:
    """After the last retry of a transient failure: the call fails, the batch goes on."""
    summary = failed_summary(call.call_id, call.row, f"{call.audio_path}: failed after retries ({error})", audio_path=call.audio_path)
    write_call(out_dir, summary)
    return {"call_id": call.call_id, "status": "failed", "skipped": False, "error": summary["error"]}


def write_row_errors(out_dir: Path, errors: list[RowError]) -> None:
    """Manifest rows that name a usable call id but cannot run get a failed summary of their own."""
    for error in errors:
        if error.call_id and "duplicate" not in error.message and "invalid call_id" not in error.message:
            write_call(out_dir, failed_summary(error.call_id, {}, error.message))


@dataclass
class RunSummary:
    batch: str
    out_dir: str
    total: int = 0
    analyzed: int = 0
    failed: int = 0
    skipped: int = 0
    manifest_errors: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    report: str = ""
    retried: list[dict] = field(default_factory=list)  # calls tried more than once (a lost worker, a transient error)
    workers: list[dict] = field(default_factory=list)  # per process: calls, model loads, memory

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.manifest_errors


def load_summaries(out_dir: Path, call_ids: list[str]) -> list[dict]:
    summaries = []
    for call_id in call_ids:
        path = call_json_path(out_dir, call_id)
        if path.is_file():
            summaries.append(read_call(path))
    return summaries


def update_history(out_dir: Path, summaries: list[dict], batch: str, history_path: Path | None = None) -> list[dict]:
    """Record tonight's calls in the history database and attach each loan's previous calls (oldest call first)."""
    from pipeline.outputs import history

    path = Path(history_path) if history_path else Path(out_dir) / "history.sqlite"
    ordered = sorted(summaries, key=lambda s: ((s.get("manifest") or {}).get("called_at") or "", s["call_id"]))
    with closing(history.connect(path)) as conn:
        for summary in ordered:
            if summary["status"] != "analyzed":
                continue
            called_at = (summary.get("manifest") or {}).get("called_at") or ""
            before = json.dumps(summary, ensure_ascii=False, sort_keys=True)
            previous = history.previous_calls(conn, summary.get("loan_id"), called_at, summary["call_id"])
            history.apply_history(summary, previous)
            history.record(conn, summary, batch)
            if json.dumps(summary, ensure_ascii=False, sort_keys=True) != before:
                write_call(out_dir, summary)
    os.chmod(path, FILE_MODE)
    return summaries


def finish_batch(batch_dir: Path, out_dir: Path, call_ids: list[str], settings: Settings, records: list[dict], errors: list[RowError],
                 history_path: Path | None = None, attempt_dir: Path | None = None, retried: list[dict] | None = None) -> RunSummary:
    """Update the loans' history, then write calls.parquet, report.html and reviewers.xlsx from the stored summaries.

    With ``attempt_dir`` (the run's attempt markers) the summary lists the calls
    that were retried and the workers that were lost; the markers are removed.
    A runner that counted its own attempts passes them as ``retried``.
    """
    from pipeline.outputs.report import render_report, write_reviewers_xlsx

    remove_stale_temps(out_dir)  # every call is done: a temporary file now is a killed worker's leftover
    summaries = update_history(out_dir, load_summaries(out_dir, call_ids), Path(batch_dir).name, history_path)
    run = RunSummary(batch=str(batch_dir), out_dir=str(out_dir), total=len(call_ids))
    run.analyzed = sum(1 for s in summaries if s["status"] == "analyzed")
    run.failed = sum(1 for s in summaries if s["status"] == "failed")
    run.skipped = sum(1 for r in records if r.get("skipped"))
    run.manifest_errors = [mask_pii(e.message) for e in errors]
    run.failures = [{"call_id": s["call_id"], "error": s.get("error")} for s in summaries if s["status"] == "failed"]
    run.workers = summarise_workers(records)
    if attempt_dir is not None:
        run.retried = retried_calls(attempt_dir)
        remove_attempt_dir(attempt_dir)
    if retried is not None:
        run.retried = retried
    write_parquet(out_dir, summaries)
    run_info = {
        "batch": Path(batch_dir).name,
        "generated_at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "pipeline_version": __version__,
        "model": settings.model,
        "n_calls": run.total,
        "n_failed": run.failed,
        "manifest_errors": run.manifest_errors,
    }
    report_path = Path(out_dir) / "report.html"
    render_report(summaries, report_path, batch_dir=Path(batch_dir), run_info=run_info)
    write_reviewers_xlsx(summaries, Path(out_dir) / "reviewers.xlsx")
    run.report = str(report_path)
    atomic_write_text(Path(out_dir) / "run.json", json.dumps(run.__dict__, ensure_ascii=False, indent=2) + "\n")
    return run


def plan_batch(batch_dir: Path) -> tuple[list[CallSpec], list[RowError], list[str]]:
    """Valid calls, row errors, and every call id that will get a JSON file."""
    calls, errors = read_manifest(batch_dir)
    ids = [c.call_id for c in calls]
    for error in errors:
        if error.call_id and "duplicate" not in error.message and "invalid call_id" not in error.message:
            ids.append(error.call_id)
    return calls, errors, ids
