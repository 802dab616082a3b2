"""Damaged recordings say so (issue 17): a recording cut short carries ``analysis.audio_warning``,
the report marks it, and missing audio alone never makes a call ``not_connected``.

The damaged files are made at test time from the sample's real calls: the
first 2,000 bytes of an mp3, the first half of an m4a (AAC, encoded by PyAV).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.speech.audio import audio_truncation, decode, mp3_truncation, probe
from pipeline.errors import AudioError
from pipeline.manifest import CallSpec

from .broken_media import cut_short, read_pcm, write_encoded
from .conftest import SAMPLE

MP3_CALL = SAMPLE / "audio" / "C0002.mp3"  # a one-minute connected call, CBR mp3 without a Xing header
WAV_CALL = SAMPLE / "audio" / "C0001.wav"  # a one-minute connected call, two channels


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("damaged")
    pcm, rate = read_pcm(WAV_CALL)
    mono = pcm.mean(axis=0, keepdims=True).astype(np.int16)  # both voices in one channel
    m4a = write_encoded(folder / "call.m4a", mono, rate, "aac")
    late_index = write_encoded(folder / "late_index.m4a", mono, rate, "aac", faststart=False)
    xing = write_encoded(folder / "xing.mp3", mono, rate, "mp3")
    return {
        "mp3_2000": cut_short(MP3_CALL, folder / "cut2000.mp3", 2000),
        "m4a": m4a,
        "m4a_half": cut_short(m4a, folder / "half.m4a", 0.5),
        "late_index_half": cut_short(late_index, folder / "late_index_half.m4a", 0.5),
        "xing": xing,
        "xing_half": _cut_at_frame(xing, folder / "xing_half.mp3"),
    }


def _cut_at_frame(source: Path, target: Path) -> Path:
    """Half of an mp3, cut exactly at a frame boundary: only the Xing header's frame count shows the loss."""
    from pipeline.speech.audio import _mp3_frame

    data = source.read_bytes()
    at = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)) if data[:3] == b"ID3" else 0
    while at < len(data) // 2:
        at += _mp3_frame(data[at : at + 4]).length
    target.write_bytes(data[:at])
    return target


def test_whole_recordings_carry_no_warning(files):
    for path in (MP3_CALL, files["m4a"], files["xing"], WAV_CALL):
        info = probe(path)
        assert audio_truncation(path, info, decode(path).duration_s) is None, path.name
    for name in ("C0006.mp3", "C0011.mp3", "C0015.mp3", "C0022.mp3"):
        assert mp3_truncation(SAMPLE / "audio" / name) is None, name


def test_mp3_cut_inside_a_frame(files):
    warning = mp3_truncation(files["mp3_2000"])
    assert warning and "cut2000.mp3" in warning and "truncated" in warning


def test_mp3_with_invalid_data_between_frames(tmp_path):
    data = MP3_CALL.read_bytes()
    damaged = tmp_path / "garbled.mp3"
    damaged.write_bytes(data[:50_000] + bytes(range(256)) * 40 + data[50_000:])
    warning = mp3_truncation(damaged)
    assert warning and "garbled.mp3" in warning and "damaged" in warning
    damaged.write_bytes(data[:50_000] + b"\x00" * 300 + data[50_000:])  # a few hundred bytes: one glitch, no warning
    assert mp3_truncation(damaged) is None


def test_mp3_with_fewer_frames_than_its_xing_header(files):
    warning = mp3_truncation(files["xing_half"])
    assert warning and "xing_half.mp3" in warning and "header promises" in warning


def test_m4a_shorter_than_its_container_declares(files):
    path = files["m4a_half"]
    info = probe(path)
    decoded = decode(path).duration_s
    assert decoded < 0.6 * info.duration_s
    warning = audio_truncation(path, info, decoded)
    assert warning and "half.m4a" in warning and "truncated" in warning


def test_m4a_cut_before_its_index_fails_saying_truncated(files):
    with pytest.raises(AudioError, match="late_index_half.m4a: truncated"):
        probe(files["late_index_half"])


def _no_contact_failure(summary: dict) -> None:
    assert summary["call_outcome"] != "not_connected"
    assert all(f["code"] != "CONTACT_FAILED" for f in summary["flags"])
    assert "schedule_callback" not in summary["actions"]


def test_truncated_mp3_of_a_real_call_is_not_reported_unanswered(files, transcriber):
    from pipeline.analyze import analyze_call

    call = CallSpec("D1", files["mp3_2000"].name, {"loan_id": "L-D1", "borrower_name": "李秀兰"}, 2, files["mp3_2000"].parent)
    summary = analyze_call(call, transcriber)
    warning = summary["analysis"]["audio_warning"]
    assert "cut2000.mp3" in warning and "truncated" in warning
    _no_contact_failure(summary)
    # 0.6 s survive, with no carrier message: the outcome cannot be told, so the call fails and says why
    assert summary["status"] == "failed" and "cut2000.mp3" in summary["error"] and "cannot be told" in summary["error"]


def test_truncated_m4a_of_a_real_call_keeps_what_was_said(files, transcriber):
    from pipeline.analyze import analyze_call

    call = CallSpec("D2", files["m4a_half"].name, {"loan_id": "L-D2", "borrower_name": "王建国"}, 2, files["m4a_half"].parent)
    summary = analyze_call(call, transcriber)
    warning = summary["analysis"]["audio_warning"]
    assert "half.m4a" in warning and "truncated" in warning
    _no_contact_failure(summary)
    assert summary["status"] == "analyzed" and summary["call_outcome"] == "connected"  # half a conversation is a conversation
    assert summary["duration_s"] < 40


def test_report_marks_a_damaged_recording(tmp_path):
    from pipeline.analyze import failed_summary
    from pipeline.outputs.report import render_report

    damaged = failed_summary("D3", {"loan_id": "L-D3"}, "x.mp3: truncated: …", audio_path="x.mp3")
    damaged["analysis"] = {"audio_warning": "x.mp3: truncated: the mp3 ends inside an audio frame after 0.6 s"}
    whole = failed_summary("D4", {"loan_id": "L-D4"}, "y.mp3: file is empty (0 bytes)", audio_path="y.mp3")
    out = tmp_path / "report.html"
    render_report([damaged, whole], out)
    page = out.read_text(encoding="utf-8")
    assert page.count("录音不完整") == 2  # the call's row and its section, only for the damaged call
    assert "ends inside an audio frame" in page
