"""Attempt markers and worker figures: what a run on many processes retried, and what each process cost.

A Dask scheduler reruns the task of a worker it lost on another worker, and
Prefect retries a transient I/O error; neither tells the batch. So every
attempt at a call leaves an empty marker file under the run's own folder
``<out>/.attempts/<run id>/<call id>/`` (on the output filesystem that every
worker already shares), named after the host and process that tried. At the
end of the batch a call with more than one marker was retried, and the
markers of processes that never reported back name the lost workers.
"""
from __future__ import annotations

import os
import resource
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

ATTEMPTS_DIR = ".attempts"

_model_loads = 0
_loads_lock = threading.Lock()


def new_attempt_dir(out_dir: Path) -> Path:
    """A fresh folder for one run's markers (a rerun of the batch starts counting again)."""
    return Path(out_dir).resolve() / ATTEMPTS_DIR / uuid.uuid4().hex


def process_tag() -> str:
    """``host:pid`` of this process: the same on every line that names a worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def mark_attempt(attempt_dir: Path, call_id: str) -> Path | None:
    """Record that this process starts (or restarts) ``call_id``; bookkeeping only, so a failure to write is no failure of the call."""
    folder = Path(attempt_dir) / call_id
    marker = folder / f"{process_tag().replace(':', '.')}.{time.time_ns()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        return None  # the call itself reports an unwritable output folder
    return marker


def read_attempts(attempt_dir: Path) -> dict[str, list[str]]:
    """Call id -> the ``host:pid`` of each attempt, oldest first."""
    attempts: dict[str, list[str]] = {}
    folder = Path(attempt_dir)
    if not folder.is_dir():
        return attempts
    for call_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        markers = []
        for marker in call_folder.iterdir():
            host, pid, stamp = marker.name.rsplit(".", 2)
            markers.append((int(stamp), f"{host}:{pid}"))
        attempts[call_folder.name] = [tag for _, tag in sorted(markers)]
    return attempts


def retried_calls(attempt_dir: Path) -> list[dict]:
    """Calls tried more than once, with the processes that tried.

    An earlier attempt by another process than the last one was on a worker the
    scheduler lost (Prefect's own retries of a transient error stay in one process).
    """
    retried = []
    for call_id, tags in read_attempts(attempt_dir).items():
        if len(tags) > 1:
            lost = sorted({t for t in tags[:-1] if t != tags[-1]})
            retried.append({"call_id": call_id, "attempts": len(tags), "workers": tags, "lost_workers": lost})
    return retried


def remove_stale_attempts(out_dir: Path) -> None:
    """Markers that an interrupted run left (one batch runs in one output folder at a time)."""
    shutil.rmtree(Path(out_dir) / ATTEMPTS_DIR, ignore_errors=True)


def remove_attempt_dir(attempt_dir: Path) -> None:
    """Drop a finished run's markers (and the parent folder once empty)."""
    shutil.rmtree(attempt_dir, ignore_errors=True)
    try:
        Path(attempt_dir).parent.rmdir()
    except OSError:
        pass


def count_model_load() -> None:
    """Called each time this process loads a Whisper model (the worker cache should make it once)."""
    global _model_loads
    with _loads_lock:
        _model_loads += 1


def _rss_mb() -> float:
    """Resident memory of this process now (Linux /proc; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_info() -> dict:
    """This process's identity, model loads so far, and memory: returned with every call's record."""
    return {
        "worker": process_tag(),
        "model_loads": _model_loads,
        "rss_mb": round(_rss_mb(), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def summarise_workers(records: list[dict]) -> list[dict]:
    """One line per process that reported: calls it analysed, model loads, memory, busy seconds."""
    by_worker: dict[str, dict] = {}
    for record in records:
        info = record.get("worker_info")
        if not info:
            continue
        line = by_worker.setdefault(info["worker"], {"worker": info["worker"], "calls": 0, "model_loads": 0, "rss_mb": 0.0, "peak_rss_mb": 0.0, "busy_s": 0.0})
        line["calls"] += 1
        line["model_loads"] = max(line["model_loads"], info["model_loads"])
        line["rss_mb"] = max(line["rss_mb"], info["rss_mb"])
        line["peak_rss_mb"] = max(line["peak_rss_mb"], info["peak_rss_mb"])
        line["busy_s"] = round(line["busy_s"] + record.get("seconds", 0.0), 2)
    return sorted(by_worker.values(), key=lambda line: line["worker"])
