"""Text: utterances -> corrected utterances (Simplified script, homophones, misheard terms, numbers).

Per utterance during transcription (``normalize``, ``homophones``, ``sounds``); per call
afterwards through the entry point ``correct_call(utterances, manifest, lexicon)``.
"""
from pipeline.lazy import lazy_exports

__all__ = ["correct_call"]
__getattr__ = lazy_exports(__name__, {"correct_call": "pipeline.text.call_corrections"})
