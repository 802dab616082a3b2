"""Scaling out and scheduling: the same flow on a Dask cluster by address, the inbox flow, the cron schedule."""
from __future__ import annotations

import json
import shutil

import pytest

from .test_flow import small_batch  # noqa: F401 - fixture


def test_flow_runs_on_a_dask_cluster_by_address(harness, small_batch, tmp_path):  # noqa: F811
    from distributed import LocalCluster

    from flows.nightly import run_nightly
    from pipeline.config import Settings

    out = tmp_path / "out"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        run = run_nightly(small_batch, out, Settings.from_env(workers=2), dask_address=cluster.scheduler_address)
    assert (run.total, run.analyzed, run.failed) == (3, 2, 1)
    b1 = json.loads((out / "calls" / "B1.json").read_text())
    assert b1["call_outcome"] == "not_connected"


def test_dask_without_a_prefect_server_is_refused(small_batch, tmp_path, monkeypatch):  # noqa: F811
    from flows.nightly import task_runner
    from pipeline.config import Settings
    from pipeline.errors import HuifangError
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: None}):
        with pytest.raises(HuifangError, match="PREFECT_API_URL"):
            task_runner(Settings(), "tcp://127.0.0.1:8786")


def test_inbox_flow_analyses_every_batch_into_its_folder(harness, small_batch, tmp_path):  # noqa: F811
    from flows.nightly import nightly_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copytree(small_batch, inbox / "2026-11-28")
    (inbox / "not-a-batch").mkdir()
    results = nightly_inbox(str(inbox), str(tmp_path / "out"))
    assert [r["batch"] for r in results] == ["2026-11-28"]
    assert (tmp_path / "out" / "2026-11-28" / "report.html").is_file()
    assert (tmp_path / "out" / "history.sqlite").is_file()
    again = nightly_inbox(str(inbox), str(tmp_path / "out"))
    assert again[0]["skipped"] == 2  # finished calls are not analysed twice


def test_schedule_takes_the_banks_timezone(tmp_path):
    from flows.nightly import nightly_deployment

    deployment = nightly_deployment(tmp_path, tmp_path / "out", "0 2 * * *", "Asia/Shanghai", 2, {"beam_size": 1})
    schedule = deployment.schedules[0].schedule
    assert schedule.cron == "0 2 * * *" and schedule.timezone == "Asia/Shanghai"
    assert deployment.parameters["workers"] == 2 and deployment.parameters["settings_overrides"] == {"beam_size": 1}


def test_attempt_markers_name_retried_calls_and_lost_workers(tmp_path):
    from pipeline.attempts import mark_attempt, new_attempt_dir, read_attempts, remove_attempt_dir, retried_calls

    attempt_dir = new_attempt_dir(tmp_path)
    mark_attempt(attempt_dir, "C1")
    mark_attempt(attempt_dir, "C2")
    (attempt_dir / "C2" / "otherhost.example.99.1").touch()  # an earlier attempt by a process on another host (lost)
    assert read_attempts(attempt_dir)["C2"][0] == "otherhost.example:99"
    retried = retried_calls(attempt_dir)
    assert [r["call_id"] for r in retried] == ["C2"]
    assert retried[0]["attempts"] == 2 and retried[0]["lost_workers"] == ["otherhost.example:99"]
    mark_attempt(attempt_dir, "C1")  # a retry in the same process (a transient error): retried, no worker lost
    assert {r["call_id"]: r["lost_workers"] for r in retried_calls(attempt_dir)} == {"C1": [], "C2": ["otherhost.example:99"]}
    remove_attempt_dir(attempt_dir)
    assert not (tmp_path / ".attempts").exists()


def test_worker_lines_count_calls_loads_and_memory():
    from pipeline.attempts import summarise_workers

    info = {"worker": "h:1", "model_loads": 1, "rss_mb": 600.0, "peak_rss_mb": 700.0}
    records = [{"call_id": "a", "seconds": 2.0, "worker_info": info},
               {"call_id": "b", "seconds": 3.0, "worker_info": info | {"rss_mb": 650.0}},
               {"call_id": "c", "seconds": 1.0, "worker_info": {"worker": "h:2", "model_loads": 1, "rss_mb": 500.0, "peak_rss_mb": 550.0}},
               {"call_id": "d", "status": "failed"}]  # given up after retries: no worker reported it
    lines = summarise_workers(records)
    assert [(w["worker"], w["calls"], w["rss_mb"], w["busy_s"]) for w in lines] == [("h:1", 2, 650.0, 5.0), ("h:2", 1, 500.0, 1.0)]


def test_served_flow_can_run_on_a_dask_cluster(tmp_path):
    from flows.nightly import nightly_deployment

    deployment = nightly_deployment(tmp_path, tmp_path / "out", "0 2 * * *", "Asia/Shanghai", None, {}, "tcp://10.0.0.5:8786")
    assert deployment.parameters["dask_address"] == "tcp://10.0.0.5:8786"


def test_on_dask_each_worker_process_decodes_with_one_thread_unless_told():
    from flows.nightly import cluster_settings
    from pipeline.config import Settings

    assert cluster_settings(Settings(workers=8), "tcp://10.0.0.5:8786").cpu_threads == 1
    assert cluster_settings(Settings(cpu_threads=4), "tcp://10.0.0.5:8786").cpu_threads == 4
    assert cluster_settings(Settings(workers=8), None).cpu_threads == 0  # local: cores split between threads later
