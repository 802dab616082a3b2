"""Text: utterances -> corrected utterances (Simplified script, homophones, misheard terms, numbers).

Per utterance during transcription (``normalize``, ``homophones``, ``sounds``); per call
afterwards through the entry point ``correct_call(utterances, manifest, lexicon)``.
"""
from __future__ import annotations

__all__ = ["correct_call"]


def __getattr__(name: str):
    """The entry point is imported on first use, so importing the package loads no model library."""
    if name == "correct_call":
        from pipeline.text.call_corrections import correct_call

        return correct_call
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
