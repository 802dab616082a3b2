"""A batch on this machine's threads without Prefect: what ``huifang run`` does when no Prefect server is set up.

Why: with no server configured, a Prefect flow starts a temporary server of its
own (about 7 s and 200 MB on 2 cores) that records the run in a database nobody
reads, then stops it. On a night of many short calls (unanswered, voicemail,
wrong party) that start was a third of the time (issue 17: twelve 2-second
clips, 11 s for plain faster-whisper, 24 s through the flow). Here the same
library functions run in the same order as in ``flows.nightly``: one call per
thread-pool task, transient I/O errors retried twice, every other problem the
call's own failed summary, then history, parquet, report and reviewers' sheet.
The flow stays what runs against a real server (``huifang serve``, Dask).
"""
from __future__ import annotations

import os
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from pipeline.attempts import worker_info
from pipeline.batch import RunSummary, TransientError, finish_batch, give_up_call, plan_batch, process_call, write_row_errors
from pipeline.config import Settings
from pipeline.manifest import CallSpec
from pipeline.outputs.files import remove_stale_temps

# The flow's policy (flows.nightly.analyze_call_task): two more tries, ten seconds apart, for I/O hiccups only.
RETRIES = 2
RETRY_DELAY_S = 10.0


def prefect_server_configured(environ: dict[str, str] | None = None) -> bool:
    """Whether Prefect has a server to report to: PREFECT_API_URL in the environment or in the active profile.

    Read without importing Prefect (its settings alone take about a second).
    """
    environ = dict(os.environ) if environ is None else environ
    if environ.get("PREFECT_API_URL"):
        return True
    home = Path(environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    profiles_path = Path(environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    try:
        profiles = tomllib.loads(profiles_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    active = environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return bool((profiles.get("profiles") or {}).get(active, {}).get("PREFECT_API_URL"))


def _analyse_with_retries(call: CallSpec, settings: Settings, out_dir: Path, force: bool, retries: int,
                          retry_delay_s: float) -> dict[str, Any]:
    """``process_call`` with the flow's retry rule; the record says how many attempts it took."""
    started = time.perf_counter()
    for attempt in range(1, retries + 2):
        try:
            record = process_call(call, settings, out_dir, force=force)
        except TransientError as exc:
            if attempt <= retries:
                time.sleep(retry_delay_s)
                continue
            record = give_up_call(call, out_dir, exc)
        except Exception as exc:  # noqa: BLE001 - as the flow: the batch goes on, the call fails
            record = give_up_call(call, out_dir, exc)
        return record | {"attempts": attempt, "seconds": round(time.perf_counter() - started, 3), "worker_info": worker_info()}
    raise AssertionError("unreachable")  # pragma: no cover


def run_here(batch_dir: Path, out_dir: Path, settings: Settings, *, force: bool = False, progress: Any = None,
             history_path: Path | None = None, retries: int = RETRIES, retry_delay_s: float = RETRY_DELAY_S) -> RunSummary:
    """Analyse ``batch_dir`` into ``out_dir`` on ``settings.workers`` threads of this process; same files as the flow."""
    batch_dir, out_dir = Path(batch_dir).resolve(), Path(out_dir).resolve()
    calls, errors, call_ids = plan_batch(batch_dir)
    remove_stale_temps(out_dir)
    write_row_errors(out_dir, errors)
    if progress is not None:
        progress.start(len(calls))
    records = []
    with ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="huifang-call") as pool:
        futures = [pool.submit(_analyse_with_retries, call, settings, out_dir, force, retries, retry_delay_s) for call in calls]
        for future in as_completed(futures):
            record = future.result()
            records.append(record)
            if progress is not None:
                progress.advance(record)
    retried = [{"call_id": r["call_id"], "attempts": r["attempts"], "lost_workers": []}
               for r in sorted(records, key=lambda r: r["call_id"]) if r["attempts"] > 1]
    return finish_batch(batch_dir, out_dir, call_ids, settings, records, errors, history_path, retried=retried)
