"""Writing results: atomic files, the per-call JSON, and the flattened ``calls.parquet``."""
from __future__ import annotations

import json
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Callable

from pipeline.labels import FACTS
from pipeline.judgement.risk import conduct_level_of

# Outputs hold personal financial data: readable by the owner and group only.
FILE_MODE = 0o640
# The unmasked transcript (--keep-raw-transcript): the owner only, in a folder of its own.
RESTRICTED_DIR = "restricted"
RESTRICTED_FILE_MODE = 0o600
RESTRICTED_DIR_MODE = 0o700
TEMP_SUFFIX = ".tmp"
# ".<target>.<host>.<pid>.<random>.tmp": a killed writer's leftovers can be told from a live writer's.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp$")


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def atomic_write(path: Path, write: Callable[[Path], None], mode: int = FILE_MODE) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename: readers never see half a file.

    Every output goes through here, so all of them get FILE_MODE (the restricted
    transcript passes RESTRICTED_FILE_MODE). The temporary name carries host and
    pid so that a rerun can remove what a killed run left (remove_stale_temps).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_host_tag()}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:  # mkstemp made it 0600, so nothing is readable by others before the final chmod
        write(Path(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale_temps(out_dir: Path) -> list[Path]:
    """Delete temporary files that a killed run of this host left under ``out_dir`` (their writer is gone).

    Temporaries of live writers and of other hosts (a shared folder) are left alone.
    """
    removed: list[Path] = []
    host = _host_tag()
    for folder in (Path(out_dir), Path(out_dir) / "calls", Path(out_dir) / RESTRICTED_DIR):
        if not folder.is_dir():
            continue
        for candidate in folder.glob(f".*{TEMP_SUFFIX}"):
            match = _TEMP_NAME.match(candidate.name)
            if match and match["host"] == host and not _pid_alive(int(match["pid"])):
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
    return removed


def atomic_write_bytes(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(path, write, mode)


def atomic_write_text(path: Path, text: str, mode: int = FILE_MODE) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def call_json_path(out_dir: Path, call_id: str) -> Path:
    return Path(out_dir) / "calls" / f"{call_id}.json"


def write_call(out_dir: Path, summary: dict) -> Path:
    path = call_json_path(out_dir, summary["call_id"])
    atomic_write_text(path, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return path


def read_call(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def restricted_path(out_dir: Path, call_id: str) -> Path:
    return Path(out_dir) / RESTRICTED_DIR / f"{call_id}.json"


def write_restricted(out_dir: Path, call_id: str, key: str, transcript: list[dict]) -> Path:
    """The unmasked transcript of one call, owner-only (folder 0700, file 0600), apart from every other output.

    ``key`` is the analysis it belongs to, so a rerun can tell whether it is current.
    """
    folder = Path(out_dir) / RESTRICTED_DIR
    folder.mkdir(mode=RESTRICTED_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(folder, RESTRICTED_DIR_MODE)  # mkdir's mode is reduced by the umask, and an old folder may be wider
    path = restricted_path(out_dir, call_id)
    record = {"call_id": call_id, "key": key, "masked": False, "transcript": transcript}
    atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=2) + "\n", RESTRICTED_FILE_MODE)
    return path


def restricted_key(out_dir: Path, call_id: str) -> str | None:
    """The analysis key of the call's restricted transcript, or None when there is none (or it is unreadable)."""
    try:
        return json.loads(restricted_path(out_dir, call_id).read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        return None


def flatten(summary: dict) -> dict:
    """One parquet row: scalars of the summary, facts as columns, flags joined by ','."""
    manifest = summary.get("manifest") or {}
    compliance = summary.get("agent_compliance") or {}
    row = {
        "schema_version": summary.get("schema_version"),
        "call_id": summary["call_id"],
        "loan_id": summary.get("loan_id"),
        "borrower_name": manifest.get("borrower_name"),
        "called_at": manifest.get("called_at"),
        "status": summary["status"],
        "error": summary.get("error"),
        "call_outcome": summary.get("call_outcome"),
        "duration_s": summary.get("duration_s"),
        "risk_level": summary.get("risk_level"),
        "conduct_level": conduct_level_of(summary),
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
        row[f"{fact}_needs_review"] = decision.get("needs_review")
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
