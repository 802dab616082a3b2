"""The nightly Prefect flow: thin orchestration over ``pipeline.batch``.

One task per call (not per stage: SQLite-backed Prefect servers answer 503 under
thousands of tiny task runs), a thread pool on one machine by default, and
artifacts for the Prefect UI.
"""
from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.attempts import mark_attempt, new_attempt_dir, remove_stale_attempts, worker_info
from pipeline.batch import RunSummary, TransientError, finish_batch, give_up_call, plan_batch, process_call, start_preload, write_row_errors
from pipeline.config import Settings
from pipeline.errors import HuifangError
from pipeline.labels import CONDUCT_NAMES_ZH, FLAG_NAMES_ZH, RISK_NAMES_ZH
from pipeline.manifest import CallSpec, read_manifest
from pipeline.outputs.files import call_json_path, read_call, remove_stale_temps
from pipeline.outputs.privacy import mask_pii
from pipeline.judgement.risk import LEVEL_RANK, conduct_level_of, worse_level

# Set by the CLI for a terminal progress bar; not a flow parameter (parameters must serialise).
_progress_hook = None


def _retry_if_transient(task, task_run, state) -> bool:
    """Retry only I/O hiccups; a corrupt recording fails at once (the library already wrote why)."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


def _call_task_name(parameters: dict) -> str:
    """The task run's name in the Prefect UI; a call id shaped like a phone number shows masked."""
    return f"analyze-{mask_pii(parameters['call'].call_id)}"


@task(name="analyze-call", task_run_name=_call_task_name, retries=2, retry_delay_seconds=10,
      retry_condition_fn=_retry_if_transient, cache_policy=NO_CACHE)
def analyze_call_task(call: CallSpec, settings: Settings, out_dir: Path, force: bool = False, attempt_dir: Path | None = None) -> dict:
    """One call: the library does the work and turns every non-transient problem into a failed summary.

    Everything the call needs arrives as arguments (settings, absolute paths), never
    from the worker's environment or working folder; each attempt leaves a marker so a
    call that a lost worker had started shows as retried, and the record says which
    process did it, its model loads and memory.
    """
    if attempt_dir is not None:
        mark_attempt(attempt_dir, call.call_id)
    started = time.perf_counter()
    record = process_call(call, settings, out_dir, force=force)
    return record | {"seconds": round(time.perf_counter() - started, 3), "worker_info": worker_info()}


@task(name="finish-batch", cache_policy=NO_CACHE)
def finish_batch_task(batch_dir: Path, out_dir: Path, call_ids: list[str], settings: Settings, records: list[dict], errors: list,
                      history_path: Path | None, attempt_dir: Path | None = None) -> RunSummary:
    return finish_batch(batch_dir, out_dir, call_ids, settings, records, errors, history_path, attempt_dir)


def _publish_artifacts(run: RunSummary, out_dir: Path, call_ids: list[str]) -> None:
    rows = []
    for call_id in call_ids:
        path = call_json_path(out_dir, call_id)
        if not path.is_file():
            continue
        summary = read_call(path)
        if summary.get("flags") or summary["status"] == "failed":
            rows.append({  # only ids, levels and flag names: no text from the call or the manifest's free fields
                "call_id": mask_pii(call_id),
                "loan_id": mask_pii(summary.get("loan_id") or ""),
                "risk": RISK_NAMES_ZH.get(summary.get("risk_level") or "", "失败"),
                "conduct": CONDUCT_NAMES_ZH.get(conduct_level_of(summary) or "", "—"),
                "flags": "、".join(FLAG_NAMES_ZH[f["code"]] for f in summary.get("flags", [])),
                "_order": LEVEL_RANK.get(worse_level(summary.get("risk_level"), conduct_level_of(summary)) or "", 9),
            })
    rows.sort(key=lambda r: (r.pop("_order"), r["call_id"]))
    create_table_artifact(key="flagged-calls", table=rows or [{"call_id": "-", "loan_id": "-", "risk": "-", "conduct": "-", "flags": "无风险标记"}], description="今晚有风险标记或失败的通话（按风险等级与通话行为等级中较严重者排序）")
    digest = (
        f"# 贷后回访夜间分析\n\n- 批次：{mask_pii(Path(run.batch).name)}\n- 通话：{run.total}，已分析 {run.analyzed}，失败 {run.failed}，"
        f"跳过（已完成）{run.skipped}\n- 有风险标记的通话：{len(rows)}\n- 报告：{run.report}\n"
    )
    create_markdown_artifact(key="nightly-digest", markdown=digest, description="夜间分析摘要")


@flow(name="huifang-nightly", log_prints=False)
def nightly(batch_dir: Path, out_dir: Path, settings: Settings | None = None, force: bool = False, history_path: Path | None = None) -> RunSummary:
    """Analyse every call of ``batch_dir`` into ``out_dir``; finished calls are skipped on rerun."""
    logger = get_run_logger()
    settings = settings or Settings.from_env()
    # Absolute paths: a Dask worker runs in a folder of its own choosing (the folders themselves must be shared).
    batch_dir, out_dir = Path(batch_dir).resolve(), Path(out_dir).resolve()
    calls, errors, call_ids = plan_batch(batch_dir)
    stale = remove_stale_temps(out_dir)
    if stale:
        logger.info("removed %d temporary files left by an interrupted run", len(stale))
    for error in errors:
        logger.warning(mask_pii(error.message))  # a row's values can carry personal numbers
    write_row_errors(out_dir, errors)
    progress = _progress_hook
    if progress is not None:
        progress.start(len(calls))
    remove_stale_attempts(out_dir)
    attempt_dir = new_attempt_dir(out_dir)
    futures = {analyze_call_task.submit(call, settings, out_dir, force, attempt_dir): call for call in calls}
    records = []
    for future in as_completed(list(futures)):
        try:
            record = future.result()
        except TransientError as exc:  # retries exhausted
            record = give_up_call(futures[future], out_dir, exc)
        except Exception as exc:  # noqa: BLE001 - the cluster gave up (e.g. Dask's KilledWorker after repeated losses)
            record = give_up_call(futures[future], out_dir, exc)
        records.append(record)
        if record["status"] == "failed":
            logger.warning("call %s failed: %s", mask_pii(record["call_id"]), mask_pii(record["error"] or ""))
        if progress is not None:
            progress.advance(record)
    run = finish_batch_task(batch_dir, out_dir, call_ids, settings, records, errors, history_path, attempt_dir)
    for retry in run.retried:
        logger.warning("call %s was tried %d times (lost workers: %s)", mask_pii(retry["call_id"]), retry["attempts"], ", ".join(retry["lost_workers"]) or "none")
    _publish_artifacts(run, out_dir, call_ids)
    logger.info("batch %s: %d calls, %d analysed, %d failed, %d skipped", mask_pii(batch_dir.name), run.total, run.analyzed, run.failed, run.skipped)
    return run


def task_runner(settings: Settings, dask_address: str | None = None):
    """A thread pool on this machine, or an existing Dask cluster (which needs a real Prefect server)."""
    if not dask_address:
        return ThreadPoolTaskRunner(max_workers=settings.workers)
    from prefect.settings import PREFECT_API_URL
    from prefect_dask import DaskTaskRunner

    if not PREFECT_API_URL.value():
        raise HuifangError(
            "--dask-address needs a Prefect server: start one (prefect server start) and set PREFECT_API_URL; "
            "without it every Dask worker would start a temporary server of its own"
        )
    return DaskTaskRunner(address=dask_address)


def cluster_settings(settings: Settings, dask_address: str | None) -> Settings:
    """On Dask, one CTranslate2 thread per worker process unless told otherwise.

    Operators run one single-threaded worker process per core; the caller's own
    core count (the default split) says nothing about the workers' machines.
    """
    if dask_address and not settings.cpu_threads:
        return settings.with_(cpu_threads=1)
    return settings


def run_nightly(batch_dir: Path, out_dir: Path, settings: Settings, force: bool = False, progress=None,
                history_path: Path | None = None, dask_address: str | None = None) -> RunSummary:
    """Run the flow on a thread pool sized to the configured workers, or on a Dask cluster."""
    global _progress_hook
    runner = task_runner(settings, dask_address)
    settings = cluster_settings(settings, dask_address)
    # On this machine's threads the calls share this process's worker: load it while Prefect starts.
    preload = None if dask_address else start_preload(read_manifest(Path(batch_dir))[0], settings, Path(out_dir).resolve(), force)
    _progress_hook = progress
    try:
        return nightly.with_options(task_runner=runner)(batch_dir, out_dir, settings, force, history_path)
    finally:
        _progress_hook = None
        if preload is not None:
            preload.join()


def batches_in(inbox: Path) -> list[Path]:
    """Batch folders of an inbox: its subfolders that hold a manifest.csv, oldest name first."""
    return sorted(p for p in Path(inbox).iterdir() if p.is_dir() and (p / "manifest.csv").is_file())


@flow(name="huifang-nightly-inbox")
def nightly_inbox(inbox: str, out_root: str, settings_overrides: dict | None = None, workers: int | None = None,
                  dask_address: str | None = None) -> list[dict]:
    """Every batch folder of ``inbox`` into ``out_root/<batch>``, sharing one history database.

    Batches already analysed are skipped call by call, so the inbox can keep old batches.
    With ``dask_address`` the calls run on that Dask cluster instead of this process's threads.
    """
    settings = Settings.from_env(**(settings_overrides or {}), workers=workers)
    out_root_path = Path(out_root)
    results = []
    for batch in batches_in(Path(inbox)):
        run = nightly.with_options(task_runner=task_runner(settings, dask_address))(
            batch, out_root_path / batch.name, cluster_settings(settings, dask_address), False, out_root_path / "history.sqlite"
        )
        results.append({"batch": batch.name, "total": run.total, "analyzed": run.analyzed, "failed": run.failed, "skipped": run.skipped})
    return results


def nightly_deployment(inbox: Path, out_root: Path, cron: str, timezone: str, workers: int | None, settings_overrides: dict,
                       dask_address: str | None = None):
    """The scheduled deployment of the inbox flow, in the bank's timezone (Prefect's default would be UTC)."""
    from prefect.schedules import Cron

    return nightly_inbox.to_deployment(
        name="huifang-nightly",
        schedule=Cron(cron, timezone=timezone),
        parameters={"inbox": str(Path(inbox).resolve()), "out_root": str(Path(out_root).resolve()),
                    "settings_overrides": settings_overrides, "workers": workers, "dask_address": dask_address},
        description="贷后回访 nightly analysis of every batch in the inbox",
    )


def serve_nightly(inbox: Path, out_root: Path, cron: str, timezone: str, workers: int | None, settings_overrides: dict,
                  dask_address: str | None = None) -> None:
    """Serve the scheduled inbox flow until stopped."""
    from prefect import serve

    serve(nightly_deployment(inbox, out_root, cron, timezone, workers, settings_overrides, dask_address))
