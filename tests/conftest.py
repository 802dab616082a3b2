"""Shared fixtures: one loaded Whisper model per test session, Prefect kept local and quiet."""
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
    from pipeline.asr import Transcriber

    return Transcriber(settings)


@pytest.fixture(scope="session")
def lexicon():
    from pipeline.lexicon import load_lexicon

    return load_lexicon()
