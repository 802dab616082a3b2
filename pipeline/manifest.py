"""Reading and validating a batch's ``manifest.csv``: bad rows are reported by row, good rows run."""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from pipeline.errors import ManifestError

REQUIRED_COLUMNS = ("call_id", "audio_path")
KNOWN_COLUMNS = ("call_id", "audio_path", "loan_id", "borrower_name", "called_at", "loan_amount", "loan_purpose", "collateral", "agent_channel")
CALL_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class CallSpec:
    """One manifest row that passed validation."""

    call_id: str
    audio_path: str  # relative to the batch folder, as written in the manifest
    row: dict[str, str]  # every column, unknown ones included
    line: int
    batch_dir: Path = field(default=Path("."))

    @property
    def loan_id(self) -> str | None:
        return self.row.get("loan_id") or None

    @property
    def agent_channel(self) -> str | None:
        value = (self.row.get("agent_channel") or "").strip().lower()
        return value if value in ("left", "right") else None

    @property
    def audio_file(self) -> Path:
        return self.batch_dir / self.audio_path


@dataclass
class RowError:
    line: int
    call_id: str | None
    message: str


def _decode(raw: bytes, path: Path) -> str:
    """UTF-8 or GB18030 (GBK), with or without a UTF-8 BOM: Excel on a Chinese Windows writes GBK, some tools add a BOM to anything."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ManifestError(f"{path}: not UTF-8 or GB18030 text")


def _inside(batch_dir: Path, relative: str) -> bool:
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute() or PureWindowsPath(relative).drive:
        return False
    resolved = (batch_dir / relative).resolve()
    try:
        resolved.relative_to(batch_dir.resolve())
    except ValueError:
        return False
    return True


def read_manifest(batch_dir: Path) -> tuple[list[CallSpec], list[RowError]]:
    """Valid calls and the problems of the other rows; raises only when the file is unusable."""
    batch_dir = Path(batch_dir)
    path = batch_dir / "manifest.csv"
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    text = _decode(path.read_bytes(), path)
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise ManifestError(f"{path}: empty manifest (no header row)")
    header = [name.strip() for name in reader.fieldnames]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ManifestError(f"{path}: missing required column(s): {', '.join(missing)}")
    reader.fieldnames = header
    calls: list[CallSpec] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        call_id = row.get("call_id", "")
        audio = row.get("audio_path", "")
        if not any(row.values()):
            continue
        if not CALL_ID.match(call_id):
            errors.append(RowError(line, call_id or None, f"manifest line {line}: invalid call_id {call_id!r} (allowed: A-Z a-z 0-9 _ . -, 1-64 characters)"))
            continue
        if call_id in seen:
            errors.append(RowError(line, call_id, f"manifest line {line}: duplicate call_id {call_id} (first on line {seen[call_id]})"))
            continue
        seen[call_id] = line
        if not audio:
            errors.append(RowError(line, call_id, f"manifest line {line}: call {call_id} has no audio_path"))
            continue
        if not _inside(batch_dir, audio):
            errors.append(RowError(line, call_id, f"manifest line {line}: audio_path {audio!r} of call {call_id} is outside the batch folder"))
            continue
        if not (batch_dir / audio).is_file():
            errors.append(RowError(line, call_id, f"manifest line {line}: audio file {audio} of call {call_id} not found"))
            continue
        calls.append(CallSpec(call_id=call_id, audio_path=audio, row=row, line=line, batch_dir=batch_dir))
    return calls, errors
