"""Speech: recording -> utterances (decode, VAD, Whisper with its guards, voice, speakers).

Entry point: ``transcribe_call(call, transcriber, classifiers) -> (utterances, duration_s, details)``.
"""
from __future__ import annotations

__all__ = ["transcribe_call"]


def __getattr__(name: str):
    """The entry point is imported on first use, so importing the package loads no model library."""
    if name == "transcribe_call":
        from pipeline.speech.transcribe import transcribe_call

        return transcribe_call
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
