"""SIGKILL `huifang run` at random points; the rerun must end with the outputs of an uninterrupted run.

The batch is four short sample calls: a two-channel call, two mono
wrong-party calls and a carrier message. The wrong-party calls are put on one
loan, so the finishing step rewrites a call JSON with its loan history (the
part of the run most likely to leave a half-updated state). The runs use
``--deterministic``: by default Whisper re-decodes doubtful segments by random
sampling, so a call re-analysed after a kill could read differently. Kill points are drawn from a
seeded generator within the measured uninterrupted wall time; one more kill
lands, deterministically, inside ``finish_batch`` after calls.parquet is
replaced, while reviewers.xlsx is half-written when the poll catches it (the
kill then leaves a temporary file that the rerun must remove). Every run is the real CLI in its own process group, reporting to the
test harness's Prefect server.
"""
from __future__ import annotations

import copy
import csv
import html.parser
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SAMPLE, write_sample_batch

SEED = int(os.environ.get("HUIFANG_KILL_SEED", "20261129"))
# Two random kills plus the one inside finish_batch (HUIFANG_KILLS=10 for a longer hunt).
N_RANDOM_KILLS = int(os.environ.get("HUIFANG_KILLS", "2"))
WAIT_FOR_XLSX_S = 0.5
WORKERS = "2"
CALLS = ["C0018", "C0019", "C0020", "C0023"]  # the shortest two-channel call (37 s), two mono wrong-party calls, a carrier message

# Fields that legitimately differ between two runs of the same analysis, and why.
# Everything else in a call JSON must be equal.
VOLATILE_CALL_FIELDS = {
    ("analysis", "elapsed_s"): "wall-clock seconds the analysis took: depends on machine load, not on the input",
}
# run.json describes one invocation, not the batch's results.
VOLATILE_RUN_FIELDS = {
    "skipped": "how many calls this invocation found already finished: differs by design after a kill",
    "report": "path of the report: out_a and out_b are different folders",
    "out_dir": "the output folder itself: out_a and out_b are different folders",
    "workers": "the processes of this invocation (pids), their memory and busy seconds",
}
# The report prints when it was generated (run_info generated_at, minute precision): blank its value.
REPORT_TIME = r"(<b>生成时间</b> )[^<]*"


@pytest.fixture(scope="module")
def kill_batch(tmp_path_factory):
    batch = tmp_path_factory.mktemp("kill") / "batch"
    with open(SAMPLE / "manifest.csv", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["call_id"] in CALLS]
    assert [r["call_id"] for r in rows] == CALLS
    by_id = {r["call_id"]: r for r in rows}
    by_id["C0020"]["loan_id"] = by_id["C0019"]["loan_id"]  # a second failed contact on one loan: history escalation
    return write_sample_batch(batch, rows)


def _env() -> dict:
    from prefect.settings import PREFECT_API_URL

    return dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_API_URL=PREFECT_API_URL.value())


def _command(batch: Path, out: Path) -> list[str]:
    exe = str(Path(sys.executable).parent / "huifang")
    # --deterministic: without it Whisper's sampled fallback may transcribe a re-analysed call differently;
    # --profile fast (greedy decoding): what is tested is recovery, not accuracy, and each of the four runs is quicker
    return [exe, "run", str(batch), "--out", str(out), "--workers", WORKERS, "--no-progress", "--deterministic", "--profile", "fast"]


def _start(batch: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(_command(batch, out), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _kill(proc: subprocess.Popen) -> bool:
    """SIGKILL the run's whole process group; True when it was still running (the kill landed)."""
    landed = proc.poll() is None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    return landed


def _kill_after(batch: Path, out: Path, seconds: float) -> bool:
    proc = _start(batch, out)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    return _kill(proc)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _writing_xlsx(out: Path) -> bool:
    return any(name.startswith(".reviewers.xlsx.") for name in os.listdir(out))


def _kill_inside_finish_batch(batch: Path, out: Path, timeout: float) -> bool:
    """Kill once this run has replaced calls.parquet, preferably while reviewers.xlsx is being written.

    The report follows the parquet within milliseconds, then the workbook takes
    tens of milliseconds to save into its temporary file: killing then leaves
    that temporary behind, as a crash mid-write would. Without seeing it within
    WAIT_FOR_XLSX_S the kill comes anyway, still before run.json.
    """
    parquet, run_json = out / "calls.parquet", out / "run.json"
    before, run_before = _inode(parquet), _inode(run_json)
    proc = _start(batch, out)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and _inode(parquet) in (before, None):
        time.sleep(0.002)
    xlsx_deadline = time.monotonic() + WAIT_FOR_XLSX_S
    while time.monotonic() < xlsx_deadline and proc.poll() is None and not _writing_xlsx(out):
        pass  # busy wait: the window is a few tens of milliseconds
    landed = _kill(proc)
    return landed and _inode(parquet) not in (before, None) and _inode(run_json) == run_before


def _without(data: dict, fields: dict) -> dict:
    data = copy.deepcopy(data)
    for keys in fields:
        node = data
        for key in keys[:-1]:
            node = node.get(key) or {}
        node.pop(keys[-1], None)
    return data


def _calls(out: Path) -> dict[str, dict]:
    return {p.name: _without(json.loads(p.read_text(encoding="utf-8")), VOLATILE_CALL_FIELDS) for p in (out / "calls").iterdir()}


def _parquet_rows(out: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(out / "calls.parquet").to_pylist()


def _history(out: Path) -> dict[str, list]:
    with sqlite3.connect(out / "history.sqlite") as conn:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in ("calls", "facts", "flags")}


def _xlsx_values(path: Path) -> list:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets]


class _Parser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("html", "body", "main", "section"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in ("html", "body", "main", "section"):
            assert self.open and self.open.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data):
        self.text.append(data)


def _report(out: Path) -> str:
    """The report's text with the generation time blanked; fails when the HTML is cut off or unbalanced."""
    import re

    page = (out / "report.html").read_text(encoding="utf-8")
    parser = _Parser()
    parser.feed(page)
    parser.close()
    assert not parser.open and page.rstrip().endswith("</html>"), "report.html is incomplete"
    page, count = re.subn(REPORT_TIME, r"\1<time>", page)
    assert count >= 1, "the report's generation time was not found"
    return page


def _leftovers(out: Path) -> list[str]:
    """Temporary files of atomic_write (.<name>.<host>.<pid>.<random>.tmp) and SQLite journals."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.name.endswith((".tmp", "-journal", "-wal")))


def test_sigkill_anywhere_then_rerun_matches_uninterrupted_run(harness, kill_batch, tmp_path):
    out_a, out_b = tmp_path / "out_a", tmp_path / "out_b"
    started = time.monotonic()
    clean = subprocess.run(_command(kill_batch, out_a), env=_env(), capture_output=True, text=True, timeout=240)
    wall = time.monotonic() - started
    assert clean.returncode == 0, clean.stderr[-2000:]

    rng = random.Random(SEED)
    points = sorted(round(rng.uniform(0.15, 1.0) * wall, 2) for _ in range(N_RANDOM_KILLS))
    landed = [_kill_after(kill_batch, out_b, point) for point in points]
    in_finish = _kill_inside_finish_batch(kill_batch, out_b, timeout=wall * 2)
    left = _leftovers(out_b)
    print(f"seed {SEED}, uninterrupted {wall:.1f} s, kill points {points} s, landed {landed}, "
          f"killed inside finish_batch {in_finish}, left by the kills: {left}")
    assert any(landed), f"no kill landed (seed {SEED}, points {points})"
    assert in_finish, "the kill meant for finish_batch did not land between calls.parquet and run.json"

    rerun = subprocess.run(_command(kill_batch, out_b), env=_env(), capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    context = f"seed {SEED}, kill points {points}"

    assert sorted(os.listdir(out_a / "calls")) == sorted(os.listdir(out_b / "calls")) == [f"{c}.json" for c in CALLS]
    calls_a, calls_b = _calls(out_a), _calls(out_b)
    for name in calls_a:
        assert calls_a[name] == calls_b[name], f"{name} differs after kills ({context})"
    assert calls_a["C0020.json"]["history_escalation"] == {"repeated_flags": ["CONTACT_FAILED"]}  # the history step ran
    assert _parquet_rows(out_a) == _parquet_rows(out_b), context
    assert _report(out_a) == _report(out_b), context
    assert _xlsx_values(out_a / "reviewers.xlsx") == _xlsx_values(out_b / "reviewers.xlsx"), context
    history_a, history_b = _history(out_a), _history(out_b)
    assert sorted(row[0] for row in history_b["calls"]) == CALLS  # each call exactly once
    assert history_a == history_b, context
    run_a, run_b = (_without(json.loads((out / "run.json").read_text()), {(k,): v for k, v in VOLATILE_RUN_FIELDS.items()})
                    for out in (out_a, out_b))
    assert run_a == run_b, context
    assert _leftovers(out_b) == [], f"left over after kills and rerun: {_leftovers(out_b)} ({context})"


def test_stale_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    """What atomic_write leaves when SIGKILLed is cleaned on the next run; a live writer's file is not touched."""
    from pipeline.outputs.files import _host_tag, atomic_write_text, remove_stale_temps

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    (tmp_path / "calls").mkdir()
    stale = tmp_path / "calls" / f".C1.json.{_host_tag()}.{dead}.abc_12.tmp"
    live = tmp_path / f".report.html.{_host_tag()}.{os.getpid()}.xyz.tmp"
    other_host = tmp_path / f".run.json.otherhost.{dead}.xyz.tmp"
    for path in (stale, live, other_host):
        path.write_text("half")
    assert remove_stale_temps(tmp_path) == [stale]
    assert live.exists() and other_host.exists() and not stale.exists()
    atomic_write_text(tmp_path / "calls" / "C1.json", "{}")
    assert [p.name for p in (tmp_path / "calls").iterdir()] == ["C1.json"]  # the writer's own temporary is gone
