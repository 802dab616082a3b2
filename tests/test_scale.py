"""Scaling out and scheduling: the same flow on a Dask cluster by address, the inbox flow, the cron schedule."""
from __future__ import annotations

import json
import shutil

import pytest

from .test_flow import harness, small_batch  # noqa: F401 - fixtures


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
