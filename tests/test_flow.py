"""The nightly flow end to end under prefect_test_harness, through the CLI entry point."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from pipeline.schema import validate_summary

from .conftest import TEST_DATA


@pytest.fixture()
def small_batch(tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(TEST_DATA / "two_channel_short.wav", batch / "a.wav")
    shutil.copy(TEST_DATA / "carrier_poweroff.wav", batch / "b.wav")
    (batch / "broken.mp3").write_bytes(b"ID3\x03\x00\x00\x00garbage, not audio at all" * 10)
    rows = [
        {"call_id": "A1", "audio_path": "a.wav", "loan_id": "L-A", "borrower_name": "测试", "loan_purpose": "经营周转", "collateral": "商铺", "agent_channel": "left"},
        {"call_id": "B1", "audio_path": "b.wav", "loan_id": "L-B", "borrower_name": "测试", "loan_purpose": "经营周转", "collateral": "无", "agent_channel": ""},
        {"call_id": "X1", "audio_path": "broken.mp3", "loan_id": "L-X", "borrower_name": "", "loan_purpose": "", "collateral": "", "agent_channel": ""},
    ]
    with open(batch / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return batch


@pytest.mark.parametrize("engine", ["prefect", "here"])
def test_batch_with_corrupt_file_completes_and_rerun_skips(harness, small_batch, tmp_path, capsys, engine):
    from pipeline.cli import main

    out = tmp_path / "out"
    code = main(["run", str(small_batch), "--out", str(out), "--no-progress", "--engine", engine])
    assert code == 3  # one call failed
    calls = {p.stem: json.loads(p.read_text()) for p in (out / "calls").glob("*.json")}
    assert set(calls) == {"A1", "B1", "X1"}
    for summary in calls.values():
        assert validate_summary(summary) == []
    assert calls["X1"]["status"] == "failed" and "broken.mp3" in calls["X1"]["error"]
    assert calls["B1"]["call_outcome"] == "not_connected"
    assert calls["A1"]["status"] == "analyzed"
    assert {u["speaker"] for u in calls["A1"]["transcript"]} == {"agent", "customer"}
    assert (out / "calls.parquet").is_file() and (out / "report.html").is_file()
    printed = capsys.readouterr().out
    assert "3 calls: 2 analysed" in printed and "1 failed" in printed

    mtime = (out / "calls" / "A1.json").stat().st_mtime_ns
    main(["run", str(small_batch), "--out", str(out), "--no-progress", "--engine", engine])
    assert (out / "calls" / "A1.json").stat().st_mtime_ns == mtime  # finished call not analysed again
    assert "(2 already done)" in capsys.readouterr().out


def test_parquet_has_one_row_per_call(harness, small_batch, tmp_path):
    import pyarrow.parquet as pq

    from pipeline.cli import main

    out = tmp_path / "out"
    main(["run", str(small_batch), "--out", str(out), "--no-progress"])
    table = pq.read_table(out / "calls.parquet").to_pylist()
    assert sorted(r["call_id"] for r in table) == ["A1", "B1", "X1"]
    by_id = {r["call_id"]: r for r in table}
    assert by_id["B1"]["flags"] == "CONTACT_FAILED"
    assert by_id["X1"]["status"] == "failed"


def test_console_script_entry_point():
    from pathlib import Path

    exe = Path(sys.executable).parent / "huifang"  # installed by pip install -e . into the same venv
    assert exe.is_file()
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "run" in result.stdout


def test_killed_run_resumes_with_each_call_once(harness, small_batch, tmp_path):
    """SIGKILL the CLI once the first call is written; the rerun finishes the rest and redoes nothing.

    Both runs are separate processes reporting to the test harness's Prefect server.
    """
    import os
    import signal
    import time
    from pathlib import Path

    exe = str(Path(sys.executable).parent / "huifang")
    out = tmp_path / "out"
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_API_URL=PREFECT_API_URL.value(), HUIFANG_WORKERS="1")
    proc = subprocess.Popen([exe, "run", str(small_batch), "--out", str(out), "--no-progress"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and not list((out / "calls").glob("*.json")) and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p.name: json.loads(p.read_text()) for p in (out / "calls").glob("*.json")}
    assert first, "the run was killed before any call finished"
    done_before = sum(1 for s in first.values() if s["status"] == "analyzed")

    result = subprocess.run([exe, "run", str(small_batch), "--out", str(out), "--no-progress"], env=env, capture_output=True, text=True)
    assert result.returncode == 3, result.stderr  # the broken recording still fails
    calls = sorted(p.name for p in (out / "calls").glob("*.json"))
    assert calls == ["A1.json", "B1.json", "X1.json"]
    assert f"({done_before} already done)" in result.stdout  # finished before the kill: not redone
    for name, before in first.items():
        after = json.loads((out / "calls" / name).read_text())
        if before["status"] == "analyzed":
            assert after["analysis"] == before["analysis"] and after["transcript"] == before["transcript"]
    assert (out / "report.html").is_file()


def test_transient_io_error_is_retried_and_corrupt_file_is_not(harness, small_batch, tmp_path, monkeypatch):
    import errno

    import flows.nightly as nightly
    import pipeline.batch as batch
    from pipeline.config import Settings

    attempts: dict[str, int] = {}
    real_key = batch.call_key

    def flaky_key(call, settings):
        attempts[call.call_id] = attempts.get(call.call_id, 0) + 1
        if call.call_id == "B1" and attempts["B1"] == 1:
            raise OSError(errno.EIO, "Input/output error")  # a network share hiccup
        return real_key(call, settings)

    monkeypatch.setattr(batch, "call_key", flaky_key)
    monkeypatch.setattr(nightly, "analyze_call_task", nightly.analyze_call_task.with_options(retry_delay_seconds=0))
    run = nightly.run_nightly(small_batch, tmp_path / "out", Settings.from_env())
    assert attempts["B1"] == 2  # retried once, then analysed
    assert attempts["X1"] == 1  # the corrupt recording is not retried
    assert (run.analyzed, run.failed) == (2, 1)

    # Without Prefect: the same rule, and the run says which call needed a second try.
    from pipeline.local_run import run_here

    attempts.clear()
    run = run_here(small_batch, tmp_path / "here", Settings.from_env(), retry_delay_s=0)
    assert (attempts["B1"], attempts["X1"]) == (2, 1)
    assert (run.analyzed, run.failed) == (2, 1)
    assert run.retried == [{"call_id": "B1", "attempts": 2, "lost_workers": []}]
    assert json.loads((tmp_path / "here" / "run.json").read_text())["retried"] == run.retried


def test_a_transient_error_that_stays_fails_the_call_and_the_batch_goes_on(small_batch, tmp_path, monkeypatch):
    import errno

    import pipeline.batch as batch
    from pipeline.config import Settings
    from pipeline.local_run import run_here

    real_key = batch.call_key

    def broken_share(call, settings):
        if call.call_id == "B1":
            raise OSError(errno.EIO, "Input/output error")
        return real_key(call, settings)

    monkeypatch.setattr(batch, "call_key", broken_share)
    run = run_here(small_batch, tmp_path / "out", Settings.from_env(), retry_delay_s=0)
    assert (run.analyzed, run.failed) == (1, 2)
    failed = json.loads((tmp_path / "out" / "calls" / "B1.json").read_text())
    assert failed["status"] == "failed" and "b.wav" in failed["error"] and "failed after retries" in failed["error"]
    assert run.retried == [{"call_id": "B1", "attempts": 3, "lost_workers": []}]


def test_both_engines_write_the_same_calls(harness, small_batch, tmp_path):
    """The flow and the thread pool without Prefect run the same library steps: same summaries, report, table."""
    import pyarrow.parquet as pq

    from pipeline.cli import main

    def comparable(out):
        calls = {}
        for path in sorted((out / "calls").glob("*.json")):
            summary = json.loads(path.read_text())
            summary.pop("analysis", None)  # timings and the process that ran it
            calls[path.stem] = summary
        return calls, pq.read_table(out / "calls.parquet").to_pylist()

    outs = {}
    for engine in ("prefect", "here"):
        outs[engine] = tmp_path / engine
        assert main(["run", str(small_batch), "--out", str(outs[engine]), "--no-progress", "--deterministic", "--engine", engine]) == 3
    assert comparable(outs["prefect"]) == comparable(outs["here"])


def test_auto_engine_uses_prefect_only_where_a_server_is_set(tmp_path):
    from pipeline.local_run import prefect_server_configured

    home = tmp_path / "prefect-home"
    assert not prefect_server_configured({"PREFECT_HOME": str(home)})
    assert prefect_server_configured({"PREFECT_HOME": str(home), "PREFECT_API_URL": "http://10.0.0.5:4200/api"})
    home.mkdir()
    (home / "profiles.toml").write_text('active = "bank"\n[profiles.bank]\nPREFECT_API_URL = "http://10.0.0.5:4200/api"\n'
                                        '[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n')
    assert prefect_server_configured({"PREFECT_HOME": str(home)})
    assert not prefect_server_configured({"PREFECT_HOME": str(home), "PREFECT_PROFILE": "ephemeral"})
    (home / "profiles.toml").write_text("not [toml")
    assert not prefect_server_configured({"PREFECT_HOME": str(home)})


def test_dask_needs_the_prefect_engine(small_batch, tmp_path):
    from pipeline.cli import main

    assert main(["run", str(small_batch), "--out", str(tmp_path / "o"), "--engine", "here", "--dask-address", "tcp://127.0.0.1:1"]) == 2


def test_the_worker_is_preloaded_only_when_a_call_needs_it(small_batch, tmp_path, monkeypatch):
    """The flow loads the model while Prefect starts (issue 17), and not for a batch that is all done."""
    import threading

    from pipeline import batch
    from pipeline.config import Settings
    from pipeline.manifest import read_manifest

    loaded = []

    def fake_worker(settings):
        loaded.append(threading.current_thread().name)
        raise batch.HuifangError("no model here")  # a failed load is left for the first call to report

    monkeypatch.setattr(batch, "get_worker", fake_worker)
    calls = read_manifest(small_batch)[0]
    out = tmp_path / "out"
    thread = batch.start_preload(calls, Settings.from_env(), out)
    thread.join(timeout=10)
    assert loaded == ["huifang-preload"]
    (out / "calls").mkdir(parents=True)
    for call in calls:
        (out / "calls" / f"{call.call_id}.json").write_text("{}")
    assert batch.start_preload(calls, Settings.from_env(), out) is None
    forced = batch.start_preload(calls, Settings.from_env(), out, force=True)
    assert forced is not None
    forced.join(timeout=10)
    assert len(loaded) == 2


def test_eval_of_a_batch_runs_it_and_scores_it(tmp_path, capsys):
    """``huifang eval BATCH --truth`` runs the batch first (the engine of ``huifang run``), then scores it."""
    import csv as csv_module

    from pipeline.cli import main

    from .conftest import SAMPLE, write_sample_batch

    with open(SAMPLE / "manifest.csv", encoding="utf-8") as handle:
        rows = [r for r in csv_module.DictReader(handle) if r["call_id"] == "C0023"]  # a 5-second carrier message
    batch = write_sample_batch(tmp_path / "batch", rows)
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    truth["calls"] = {"C0023": truth["calls"]["C0023"]}
    (tmp_path / "truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    main(["eval", str(batch), "--truth", str(tmp_path / "truth.json"), "--out", str(out), "--no-progress", "--profile", "fast"])
    assert (out / "calls" / "C0023.json").is_file() and (out / "eval.json").is_file()
    assert "call_outcome" in json.dumps(json.loads((out / "eval.json").read_text()))


def test_text_tables_are_built_beside_the_first_decode_and_calls_wait_for_them(settings, monkeypatch):
    """The worker loads Whisper, then builds the text stages' tables in a thread; a correction waits for them."""
    import threading

    from pipeline import batch
    from pipeline.speech.asr import Transcriber

    release, started = threading.Event(), threading.Event()
    built: list[str] = []

    def slow_tables(classifiers, ready):
        started.set()
        release.wait(10)
        built.append("tables")
        ready.set()

    monkeypatch.setattr(batch, "_build_text_tables", slow_tables)
    monkeypatch.setattr("pipeline.speech.asr.Transcriber.__init__",
                        lambda self, s, model=None, lexicon=None: _bare_transcriber(self, s))
    worker = batch._load_worker(settings)
    assert started.wait(10) and not worker.transcriber.text_tables.is_set()  # loaded before the tables exist
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(worker.transcriber.corrector))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and not got  # the first correction waits ...
    release.set()
    reader.join(10)
    assert built == ["tables"] and got and got[0] is not None  # ... until the tables are built


def _bare_transcriber(self, settings):
    from pipeline.facts.lexicon import load_lexicon

    self.settings, self.lexicon, self._corrector, self.text_tables = settings, load_lexicon(), None, None
