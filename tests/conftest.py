"""Shared fixtures: one loaded Whisper model and one Prefect test server per test session, Prefect kept local and quiet."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "tests" / "data"
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def settings():
    from pipeline.config import Settings

    return Settings.from_env()


@pytest.fixture(scope="session")
def transcriber(settings):
    from pipeline.speech.asr import Transcriber

    return Transcriber(settings)


@pytest.fixture(scope="session")
def harness():
    """One Prefect test server for every test that runs a flow: it took 20 to 25 s to start on a
    loaded 2-core machine, and five modules each started their own."""
    from prefect.testing.utilities import prefect_test_harness

    # 30 s by default; the server took longer on a loaded 2-core machine (setup errors, not failures).
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def lexicon():
    from pipeline.facts.lexicon import load_lexicon

    return load_lexicon()


def write_sample_batch(batch: Path, rows: list[dict]) -> Path:
    """A batch folder with these manifest rows of the sample batch and their recordings."""
    import csv

    (batch / "audio").mkdir(parents=True, exist_ok=True)
    for row in rows:
        (batch / row["audio_path"]).write_bytes((SAMPLE / row["audio_path"]).read_bytes())
    with open(batch / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return batch
