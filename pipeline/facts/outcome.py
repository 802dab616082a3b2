"""The call's outcome (connected, not connected, wrong party) from who spoke and what was said.

The outcome gates every other fact: a call nobody answered has no facts to
read, and a damaged recording whose outcome cannot be told fails instead of
counting as unanswered (``outcome_lost_with_audio``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.facts.extract import Match
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


# The borrower on the line after someone else answered: 我是…/是我/我就是 (not 我是他爱人).
_BORROWER_SAYS_SELF = re.compile(r"(?:^|[，。,.！!？?\s喂哎嗯对])(?:我就是|我是|是我|我本人)(?![他她的]|我)")
_HANDOVER = re.compile(r"稍等|等一下|等等|我(去)?(叫|喊|找)(他|她)|(给|把电话给|电话给)(他|她)|让(他|她)(来)?接|(他|她)来了|叫(他|她)(过来|来)")


def borrower_came_on(utterances: list[Utterance], after: int, borrower_name: str = "") -> bool:
    """True when, after utterance ``after`` (someone else answering), the borrower took the phone.

    Either a later customer turn says who it is (喂，我是宋建平 / 是我，你说),
    or the person who answered hands over (稍等，我叫他) and the agent then
    greets the borrower by surname.
    """
    surname = borrower_name[:1] if borrower_name else ""
    handed = False
    for utt in utterances[after + 1:]:
        text = utt.text.strip()
        if utt.speaker in ("customer", "unknown"):
            if _BORROWER_SAYS_SELF.search(text) or (borrower_name and borrower_name in text and "我" in text):
                return True
            handed = handed or bool(_HANDOVER.search(text))
        elif utt.speaker == "agent" and handed and surname and re.search(re.escape(surname) + r"(先生|女士|总|老板|经理|师傅|哥|姐)", text):
            return True
    return False


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
