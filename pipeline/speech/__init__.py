"""Speech: recording -> utterances (decode, VAD, Whisper with its guards, voice, speakers).

Entry point: ``transcribe_call(call, transcriber, classifiers) -> (utterances, duration_s, details)``.
"""
from pipeline.lazy import lazy_exports

__all__ = ["transcribe_call"]
__getattr__ = lazy_exports(__name__, {"transcribe_call": "pipeline.speech.transcribe"})
