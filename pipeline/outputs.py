"""Writing results: atomic files, the per-call JSON, and the flattened ``calls.parquet``."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from .labels import FACTS

# Outputs hold personal financial data: readable by the owner and group only.
FILE_MODE = 0o640


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename: readers never see half a file.

    Every output goes through here, so all of them get FILE_MODE.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(path, write)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def call_json_path(out_dir: Path, call_id: str) -> Path:
    return Path(out_dir) / "calls" / f"{call_id}.json"


def write_call(out_dir: Path, summary: dict) -> Path:
    path = call_json_path(out_dir, summary["call_id"])
    atomic_write_text(path, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return path


def read_call(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def flatten(summary: dict) -> dict:
    """One parquet row: scalars of the summary, facts as columns, flags joined by ','."""
    manifest = summary.get("manifest") or {}
    compliance = summary.get("agent_compliance") or {}
    row = {
        "call_id": summary["call_id"],
        "loan_id": summary.get("loan_id"),
        "borrower_name": manifest.get("borrower_name"),
        "called_at": manifest.get("called_at"),
        "status": summary["status"],
        "error": summary.get("error"),
        "call_outcome": summary.get("call_outcome"),
        "duration_s": summary.get("duration_s"),
        "risk_level": summary.get("risk_level"),
        "flags": ",".join(f["code"] for f in summary.get("flags", [])),
        "flag_severities": ",".join(f"{f['code']}:{f['severity']}" for f in summary.get("flags", [])),
        "actions": ",".join(summary.get("actions", [])),
        "recording_disclosed": compliance.get("recording_disclosed"),
        "identity_verified": compliance.get("identity_verified"),
        "topics_missing": ",".join(compliance.get("topics_missing", [])),
        "prohibited_language": ",".join(p.get("type", "") if isinstance(p, dict) else str(p) for p in compliance.get("prohibited_language", [])),
        "summary_zh": summary.get("summary_zh"),
        "transcript_text": "\n".join(f"[{u['speaker']}] {u['text']}" for u in summary.get("transcript", [])),
        "audio_path": summary.get("audio_path"),
    }
    for fact in FACTS:
        decision = summary.get("facts", {}).get(fact, {})
        row[fact] = decision.get("value")
        row[f"{fact}_confidence"] = decision.get("confidence")
    row["fund_use_matches_contract"] = summary.get("facts", {}).get("fund_use", {}).get("matches_contract")
    return row


def write_parquet(out_dir: Path, summaries: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [flatten(s) for s in sorted(summaries, key=lambda s: s["call_id"])]
    table = pa.Table.from_pylist(rows) if rows else pa.table({"call_id": pa.array([], pa.string())})
    path = Path(out_dir) / "calls.parquet"
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return path
