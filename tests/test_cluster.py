"""A real multi-process cluster: Prefect server (the session's test server), Dask scheduler and two Dask worker processes, as an operator starts them.

``huifang run --dask-address`` runs as a subprocess against it; a second run
loses a worker to SIGKILL mid-batch. Both are compared with a local
(thread-pool) run of the same calls and settings, in the same environment.
Short sample calls, beam 1, temperature 0 only (``--deterministic``) keep it
lean and the transcripts reproducible. Timeouts are generous and every wait
polls: the machine may be busy.
"""
from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from bench.cluster import BIN, ROOT, ProcessCluster, group_alive, huifang_run, kill_group, wait_until

from .conftest import SAMPLE, write_sample_batch

pytestmark = pytest.mark.cluster

CALLS = ("C0021", "C0022", "C0023", "C0024")  # 5-10 s each, one mp3
OPTIONS = ["--profile", "fast", "--deterministic"]
TIMEOUT = 900


@pytest.fixture(scope="module")
def cluster_batch(tmp_path_factory) -> Path:
    with open(SAMPLE / "manifest.csv", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.DictReader(handle) if row["call_id"] in CALLS]
    return write_sample_batch(tmp_path_factory.mktemp("cluster") / "batch", rows)


@pytest.fixture(scope="module")
def cluster(harness, tmp_path_factory):
    """Two ``dask worker`` processes whose own environment asks for other settings and whose folder is elsewhere.

    They report to the session's Prefect test server, a real server over HTTP like the one an
    operator starts (``python -m bench cluster`` starts its own): a second one took 20-25 s."""
    from prefect.settings import PREFECT_API_URL

    work = tmp_path_factory.mktemp("cluster-procs")
    poisoned = {"HUIFANG_BEAM_SIZE": "5", "HUIFANG_DETERMINISTIC": "0", "HUIFANG_PROFILE": "accurate"}
    proc_cluster = ProcessCluster(work, n_workers=2, worker_env=poisoned, worker_cwd=work / "elsewhere", timeout=TIMEOUT,
                                  api_url=PREFECT_API_URL.value())
    try:
        proc_cluster.start()
        yield proc_cluster
    finally:
        proc_cluster.stop()
        groups = proc_cluster.process_groups()
        leaked = [pgid for pgid in groups if group_alive(pgid)]
        assert not leaked, f"process groups still alive after stopping the cluster: {leaked}"


def _env(cluster: ProcessCluster) -> dict[str, str]:
    return cluster.base_env() | {"PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def local_run(cluster, cluster_batch, tmp_path_factory) -> Path:
    """The same calls and options on this machine's thread pool (no Dask), reporting to the same server."""
    out = tmp_path_factory.mktemp("local") / "out"
    result = huifang_run(cluster_batch, out, _env(cluster), OPTIONS, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def _comparable(out: Path) -> dict:
    """What must not depend on where a call ran: outcome, facts, flags, risk, transcript texts and speakers."""
    calls = {}
    for path in sorted((out / "calls").glob("*.json")):
        s = json.loads(path.read_text())
        calls[s["call_id"]] = {
            "status": s["status"], "call_outcome": s["call_outcome"], "risk_level": s["risk_level"],
            "facts": s["facts"], "flags": s["flags"],
            "transcript": [(u["speaker"], u["text"]) for u in s["transcript"]],
        }
    return calls


def _assert_every_call_once(out: Path) -> dict:
    run = json.loads((out / "run.json").read_text())
    assert (run["total"], run["analyzed"], run["failed"], run["skipped"]) == (len(CALLS), len(CALLS), 0, 0)
    assert sorted(p.name for p in (out / "calls").iterdir()) == [f"{c}.json" for c in CALLS]  # no temporary or partial file
    assert not list(out.rglob("*.tmp")) and not (out / ".attempts").exists()
    with sqlite3.connect(out / "history.sqlite") as conn:
        rows = conn.execute("SELECT call_id, COUNT(*) FROM calls GROUP BY call_id ORDER BY call_id").fetchall()
    assert rows == [(c, 1) for c in CALLS]
    return run


def _two_workers(cluster: ProcessCluster) -> None:
    while len([w for w in cluster.workers if w.poll() is None]) < 2:
        cluster.add_worker()
    cluster.wait_for_workers(2)


def _worker_pids(run: dict) -> list[int]:
    return [int(w["worker"].rsplit(":", 1)[1]) for w in run["workers"]]


def test_a_worker_killed_mid_batch_is_retried_and_every_call_written_once(cluster, cluster_batch, local_run, tmp_path):
    _two_workers(cluster)
    out = tmp_path / "out"
    proc = subprocess.Popen([str(BIN / "huifang"), "run", str(cluster_batch), "--out", str(out), "--no-progress",
                             "--dask-address", cluster.address, *OPTIONS],
                            env=_env(cluster), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # The first attempt marker appears when a worker starts its first call, before it loads the model
        # (this test runs first, on fresh workers): kill that worker while the call is surely under way.
        def first_marker():
            if proc.poll() is not None:
                raise AssertionError(f"huifang run ended before any call started: {proc.stderr.read()[-3000:]}")
            return next(iter((out / ".attempts").glob("*/*/*")), None)

        marker = wait_until(first_marker, TIMEOUT, "a worker to start a call", 0.05)
        call_id, pid = marker.parent.name, int(marker.name.rsplit(".", 2)[1])
        victim = cluster.worker_group_of(pid)
        assert victim is not None, f"attempt by pid {pid}, which is no dask worker of this cluster"
        cluster.kill_worker(victim)
        killed_at = time.monotonic()
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        kill_group(proc, grace=5)  # whatever the outcome, the CLI and anything it started are gone
    assert proc.returncode == 0, stderr[-3000:]
    assert not group_alive(victim.pid)
    run = _assert_every_call_once(out)
    retried = {r["call_id"]: r for r in run["retried"]}
    assert call_id in retried, (run["retried"], time.monotonic() - killed_at)
    assert retried[call_id]["attempts"] == 2 and retried[call_id]["lost_workers"] == [marker.name.rsplit(".", 2)[0] + f":{pid}"]
    assert f"retried {call_id}: 2 attempts (lost worker" in stdout
    assert pid not in _worker_pids(run)  # the killed process never reported a call
    assert _comparable(out) == _comparable(local_run)


def test_batch_on_a_multi_process_cluster_equals_a_local_run(cluster, cluster_batch, local_run, tmp_path):
    _two_workers(cluster)  # the test before killed one: a worker joins the running cluster
    out = tmp_path / "out"
    # A relative batch path from the client's folder: the workers (started elsewhere) must get absolute ones.
    result = huifang_run(Path(cluster_batch.name), out, _env(cluster), ["--dask-address", cluster.address, *OPTIONS],
                         cwd=cluster_batch.parent, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    run = _assert_every_call_once(out)
    assert run["retried"] == []
    assert _comparable(out) == _comparable(local_run)

    # The calls ran in the dask worker processes, each of which loaded the model once.
    assert sum(w["calls"] for w in run["workers"]) == len(CALLS)
    assert all(cluster.worker_group_of(pid) is not None for pid in _worker_pids(run))
    assert all(w["model_loads"] == 1 and w["rss_mb"] > 0 for w in run["workers"])
    assert "model loaded 1x" in result.stdout
    # The settings came from the client, not from the workers' own HUIFANG_* environment.
    for call_id in CALLS:
        options = json.loads((out / "calls" / f"{call_id}.json").read_text())["analysis"]["decode_options"]
        assert options["beam_size"] == 1 and options["temperature"] == [0.0]
