"""The call's outcome (connected, not connected, wrong party) from who spoke and what was said.

The outcome gates every other fact: a call nobody answered has no facts to
read, and a damaged recording whose outcome cannot be told fails instead of
counting as unanswered (``outcome_lost_with_audio``).
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.facts.extract import Match, borrower_came_on
from pipeline.facts.lexicon import Lexicon
from pipeline.speech.speakers import carrier_kind
from pipeline.speech.transcript import Utterance

# A call counts as a conversation only when the non-system parties said at least this much.
MIN_CONVERSATION_CHARS = 8
CARRIER_NAMES_ZH = {
    "power_off": "对方已关机",
    "vacant_number": "空号",
    "suspended": "对方已停机",
    "unreachable": "暂时无法接通",
    "busy": "对方正在通话中",
    "no_answer": "无人接听",
    "out_of_service": "不在服务区",
    "voicemail": "转入语音信箱",
    "carrier_intro": "运营商提示音",
    "no_speech": "录音中无人说话",
}
# Audio a truncated recording must still hold, with nobody answering, before it counts as unanswered.
UNANSWERED_MIN_S = 30.0


@dataclass
class Outcome:
    value: str  # connected | not_connected | wrong_party
    carrier_message: str | None
    evidence: list[int]


def decide_outcome(utterances: list[Utterance], matches: list[Match], lexicon: Lexicon, borrower_name: str = "") -> Outcome:
    """Not connected when nobody but the carrier spoke; wrong party when someone else answered and the borrower never came on."""
    system = [i for i, u in enumerate(utterances) if u.speaker == "system"]
    spoken = sum(len(u.text) for u in utterances if u.speaker in ("customer", "unknown"))
    if not utterances:
        return Outcome("not_connected", CARRIER_NAMES_ZH["no_speech"], [])
    if system and spoken < 4 * MIN_CONVERSATION_CHARS:
        kind = next((carrier_kind(utterances[i].text, lexicon) for i in system), None)
        return Outcome("not_connected", CARRIER_NAMES_ZH.get(kind or "", None), system)
    if spoken < MIN_CONVERSATION_CHARS:
        return Outcome("not_connected", CARRIER_NAMES_ZH["no_answer"], [])
    wrong = [m for m in matches if m.label == "outcome:wrong_party" and utterances[m.utterance].speaker in ("customer", "unknown")]
    if wrong and not borrower_came_on(utterances, max(m.utterance for m in wrong), borrower_name):
        return Outcome("wrong_party", None, sorted({m.utterance for m in wrong}))
    return Outcome("connected", None, [])


def outcome_lost_with_audio(summary: dict, audio_warning: str | None, duration_s: float) -> str | None:
    """Why a damaged recording cannot be called not connected, or None when its outcome stands.

    A recording cut short that holds no carrier message and too little audio
    (under ``UNANSWERED_MIN_S``) to show that nobody answered says nothing
    about the call: it must not become ``not_connected`` with CONTACT_FAILED
    and a callback. The call fails instead, naming the file and the damage,
    so a reviewer listens to the original (issue 17).
    """
    if not audio_warning or summary.get("call_outcome") != "not_connected":
        return None
    if any(u.get("speaker") == "system" for u in summary.get("transcript", [])) or duration_s >= UNANSWERED_MIN_S:
        return None  # a carrier message was heard, or enough of the call with nobody answering
    damage = audio_warning.replace("; analysed what is there", "").replace("; analysed what could be decoded", "").replace("; analysed the rest", "")
    return (
        f"{damage}: the {duration_s:.1f} s that survive hold no carrier message and no conversation, "
        "so whether the call was answered cannot be told; listen to the original recording"
    )
