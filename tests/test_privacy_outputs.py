"""No ID-card or phone number of a sample call appears unmasked in any output file or log."""
from __future__ import annotations

import csv
import json
import re
import zipfile

from .conftest import SAMPLE
from .test_flow import harness  # noqa: F401 - fixture

TRUTH = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["calls"]
# 11 or more digits in a row: phone, ID-card and bank-card numbers (amounts are never that long).
LONG_NUMBER = re.compile(r"[0-9]{11,}")


def _spoken_numbers(call_ids: list[str]) -> set[str]:
    numbers = set()
    for call_id in call_ids:
        for turn in TRUTH[call_id]["turns"]:
            numbers |= set(re.findall(r"[0-9]{11,18}[0-9Xx]?", turn["text"]))
    return numbers


def _texts_of(path) -> list[str]:
    """Every text an output file holds (xlsx is a zip of XML; binary files are read as bytes)."""
    if path.suffix == ".parquet":  # compressed pages: read the values
        import pyarrow.parquet as pq

        return [json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False)]
    if path.suffix == ".sqlite":
        import sqlite3

        with sqlite3.connect(path) as conn:
            tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return [json.dumps(conn.execute(f"SELECT * FROM {t}").fetchall(), ensure_ascii=False) for t in tables]
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    return [path.read_bytes().decode("utf-8", "replace")]


def test_sample_pii_is_masked_everywhere(harness, tmp_path, caplog):  # noqa: F811
    from pipeline.cli import main

    call_ids = ["C0002", "C0017"]  # a customer reads an ID-card number; a new phone number is read out and repeated
    secrets = _spoken_numbers(call_ids)
    assert len(secrets) == 2
    batch = tmp_path / "batch"
    (batch / "audio").mkdir(parents=True)
    with open(SAMPLE / "manifest.csv", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["call_id"] in call_ids]
    for row in rows:
        (batch / row["audio_path"]).write_bytes((SAMPLE / row["audio_path"]).read_bytes())
    with open(batch / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    caplog.set_level("DEBUG")
    assert main(["run", str(batch), "--out", str(out), "--no-progress"]) == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"C0002.json", "C0017.json", "calls.parquet", "report.html", "reviewers.xlsx", "history.sqlite", "run.json"}
    heard = json.loads((out / "calls" / "C0002.json").read_text())
    assert any("*" in u["text"] for u in heard["transcript"])  # the number was transcribed, then masked
    for path in files:
        for text in _texts_of(path):
            for secret in secrets:
                assert secret not in text, f"{secret[:3]}… unmasked in {path.name}"
            assert not LONG_NUMBER.search(text), f"a long number is unmasked in {path.name}"
    for secret in secrets:
        assert secret not in caplog.text
