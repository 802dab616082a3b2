"""Plain dataclasses for what transcription produces: words and utterances."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass
class Utterance:
    """One speaker's stretch of speech, as reviewers see it in the transcript."""

    start: float
    end: float
    text: str  # Simplified, domain terms corrected, as spoken otherwise
    speaker: str = "unknown"  # agent | customer | system | unknown
    channel: str = "mono"  # mono | left | right
    raw_text: str = ""  # what Whisper wrote, before correction (Simplified)
    norm_text: str = ""  # numbers as digits; what extraction reads
    confidence: float = 0.0  # mean word probability (or exp(avg_logprob))
    speaker_confidence: float = 0.0
    words: list[Word] = field(default_factory=list)
    corrections: list[dict] = field(default_factory=list)  # [{start,end,original,corrected}]

    def to_json(self, with_words: bool = False) -> dict:
        """The JSON form, fields in declaration order (built by hand: ``asdict`` deep-copied every
        word only to drop them, a tenth of the text stages' time)."""
        data = {
            "start": round(self.start, 2), "end": round(self.end, 2), "text": self.text, "speaker": self.speaker,
            "channel": self.channel, "raw_text": self.raw_text, "norm_text": self.norm_text,
            "confidence": round(self.confidence, 3), "speaker_confidence": round(self.speaker_confidence, 3),
        }
        if with_words:
            data["words"] = [
                {"start": round(w.start, 2), "end": round(w.end, 2), "text": w.text, "probability": round(w.probability, 3)}
                for w in self.words
            ]
        data["corrections"] = copy.deepcopy(self.corrections) if self.corrections else []
        return data


def shift_utterances(utterances: list[Utterance], offset_s: float) -> list[Utterance]:
    """Move utterances (and their words) decoded from a clip or window to their time in the recording."""
    for utt in utterances:
        utt.start = round(utt.start + offset_s, 2)
        utt.end = round(utt.end + offset_s, 2)
        for word in utt.words:
            word.start = round(word.start + offset_s, 3)
            word.end = round(word.end + offset_s, 3)
    return utterances
