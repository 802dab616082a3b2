"""The sample batch's dev scripts (scripts/make_sample.py and its modules, voice_eval.py) without the TTS.

They run in a separate TTS venv, so nothing else imports them: these tests keep
them importable with numpy alone, keep the names voice_eval.py uses on
make_sample, and check the data they voice (sample_calls.json, sample_speech.json).
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
OWN_MODULES = ("make_sample", "voice_eval", "sample_audio", "sample_contract", "sample_report")


@pytest.fixture(scope="module")
def scripts():
    """make_sample and voice_eval imported as the TTS venv imports them (scripts/ on the path), then forgotten."""
    saved_path = list(sys.path)
    sys.path.insert(0, str(SCRIPTS))
    try:
        yield {name: importlib.import_module(name) for name in ("make_sample", "voice_eval", "sample_audio")}
    finally:
        sys.path[:] = saved_path
        for name in OWN_MODULES:
            sys.modules.pop(name, None)


def test_voice_eval_finds_what_it_uses_on_make_sample(scripts) -> None:
    ms = scripts["make_sample"]
    for name in ("ROOT", "SR", "PRON_FIXES", "Voice", "decode", "render_call", "show_pinyin"):
        assert hasattr(ms, name), f"voice_eval.py uses ms.{name}"
    # voice_eval adds its own readings to ms.PRON_FIXES: it must be the dict the Voice reads
    assert ms.PRON_FIXES is scripts["sample_audio"].PRON_FIXES


def test_every_sample_call_obeys_the_contract_and_can_be_spoken(scripts) -> None:
    import json

    ms, audio = scripts["make_sample"], scripts["sample_audio"]
    calls = json.loads(ms.CALLS_JSON.read_text(encoding="utf-8"))["calls"]
    assert len(calls) >= 20
    assert [p for call in calls for p in ms.check_call(call)] == []
    for call in calls:
        for turn in call["turns"]:
            assert audio.tts_phrases(turn["text"]), f"{call['call_id']}: nothing speakable in {turn['text']!r}"


def test_the_test_clips_are_the_ones_tests_data_describes(scripts) -> None:
    readme = (ROOT / "tests" / "data" / "README.md").read_text(encoding="utf-8")
    clips = scripts["make_sample"].TEST_CLIPS
    assert set(clips) == {"agent_greeting.wav", "carrier_poweroff.wav", "two_channel_short.wav"}
    for name, clip in clips.items():
        for speaker, text in clip["turns"]:
            assert speaker in clip["voice"], f"{name}: no voice for {speaker}"
            assert f"| `{name}` |" in readme and text in readme, f"{name}: {text!r} is not what tests/data holds"


def test_pronunciation_fixes_give_one_syllable_per_character(scripts) -> None:
    for word, syllables in scripts["sample_audio"].PRON_FIXES.items():
        assert len(syllables.split()) == len(word), word
