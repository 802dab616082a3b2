"""pypinyin's readings of the lexicon's words, remembered between processes.

Why: every worker reads the same few thousand rule phrases and domain words
aloud to build its sound indexes (``facts.sound_match``, ``text.homophones``):
about 1 s of pypinyin per process start, a tenth of a batch of short calls
(issue 17). The readings depend only on the word and pypinyin's version, so
they are kept in ``<cache>/readings-pypinyin-<version>.json`` (the cache folder
of the Whisper model, ``HUIFANG_CACHE``) and read back in a few milliseconds.
A missing, unreadable or unwritable file only means computing them again.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

FORMAT = 1
_lock = threading.Lock()
_table: dict[str, list[str]] | None = None
_added = 0


def cache_path() -> Path | None:
    """Where this pypinyin version's readings are kept (None when pypinyin's version cannot be told)."""
    from pipeline.config import default_cache_dir

    try:
        pypinyin_version = version("pypinyin")
    except PackageNotFoundError:
        return None
    return default_cache_dir() / f"readings-v{FORMAT}-pypinyin-{pypinyin_version}.json"


def _load() -> dict[str, list[str]]:
    global _table
    if _table is None:
        path = cache_path()
        table: dict[str, list[str]] = {}
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict) and all(isinstance(v, list) for v in loaded.values()):
                    table = loaded
            except (OSError, ValueError):
                pass
        _table = table
    return _table


def toned(word: str) -> tuple[str, ...]:
    """``lazy_pinyin(word, style=TONE3, neutral_tone_with_five=True)``, read in context (理了个财: le)."""
    global _added
    with _lock:
        table = _load()
        found = table.get(word)
    if found is None:
        from pypinyin import Style, lazy_pinyin

        found = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        with _lock:
            table[word] = found
            _added += 1
    return tuple(found)


def save() -> None:
    """Write the readings computed since loading (atomically; nothing when none were added or the folder is read-only)."""
    global _added
    path = cache_path()
    with _lock:
        if not _added or path is None or _table is None:
            return
        text = json.dumps(_table, ensure_ascii=False, separators=(",", ":"))
        _added = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    except OSError:
        return  # a read-only cache: computed again next time
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
