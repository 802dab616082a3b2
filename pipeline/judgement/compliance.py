"""Agent compliance: recording notice, identity check, required topics, prohibited language.

What it finds becomes AGENT_NONCOMPLIANCE, a conduct flag (contract v2): it
sets the call's conduct_level, never the loan's risk_level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.facts.extract import Match, doubtful_borrower
from pipeline.judgement.risk import Flag
from pipeline.speech.transcript import Utterance

_BASE_TOPICS = ("fund_use", "repayment_ability", "business_condition")
_PROHIBITED = {"threat": "威胁客户", "insult": "辱骂客户", "third_party_disclosure": "向第三方透露债务"}


def is_project_loan(manifest: dict) -> bool:
    purpose = str(manifest.get("loan_purpose") or "")
    return any(word in purpose for word in ("项目", "工程", "建设", "施工", "开发"))


def has_collateral(manifest: dict) -> bool:
    collateral = str(manifest.get("collateral") or "").strip()
    return collateral not in ("", "无", "none", "None", "信用", "无抵押")


def required_topics(manifest: dict) -> list[str]:
    topics = list(_BASE_TOPICS)
    if has_collateral(manifest):
        topics.insert(2, "collateral_status")
    if is_project_loan(manifest):
        topics.append("project_progress")
    return topics


# Asked, not presumed: 吗 or a question mark right after the name (a tag like 是吧 presumes).
_ASKED = r"(?:先生|女士|小姐|老板|总|经理)?(?:本人)?(?:吗|么|是吗|是不是|[？?])"


def asks_for_borrower(text: str, borrower_name: str) -> bool:
    """The agent asks whether the person is the borrower by name: 是赵六吗？ 赵六？

    The identity rule (models/patterns.jsonl, ag_identity) cannot know names;
    here the manifest's name (two characters or more), asked as a question,
    counts as a check. The name in a greeting (赵六您好) or in a presumptive
    tag that goes straight on to the debt (赵六是吧？你这个月…) does not.
    """
    name = str(borrower_name or "").strip()
    if len(name) < 2:
        return False
    return re.search(re.escape(name) + _ASKED, text) is not None


# A recording notice in a sentence the mono attribution gave the borrower without much confidence
# (``doubtful_borrower``) counts when it announces rather than asks: a borrower asks 录音了吗.
_ASKS = re.compile(r"[吗么嘛？?]|有没有|是不是")


def _doubtful_borrower_notice(utterance: Utterance) -> bool:
    return doubtful_borrower(utterance) and not _ASKS.search(utterance.text)


@dataclass
class Compliance:
    recording_disclosed: bool
    identity_verified: bool
    topics_covered: list[str]
    topics_missing: list[str]
    prohibited_language: list[dict] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "recording_disclosed": self.recording_disclosed,
            "identity_verified": self.identity_verified,
            "topics_covered": self.topics_covered,
            "topics_missing": self.topics_missing,
            "prohibited_language": self.prohibited_language,
        }


def assess(utterances: list[Utterance], matches: list[Match], facts: dict, manifest: dict, outcome: str) -> Compliance:
    """Check the agent; raises AGENT_NONCOMPLIANCE flags as the contract defines them."""
    agent_matches = [m for m in matches if m.kind == "agent" and utterances[m.utterance].speaker in ("agent", "unknown")]
    recording = [m for m in agent_matches if m.value == "recording_notice"]
    recording += [m for m in matches if m.kind == "agent" and m.value == "recording_notice" and _doubtful_borrower_notice(utterances[m.utterance])]
    identity = [m for m in agent_matches if m.value == "identity_check"]
    borrower = manifest.get("borrower_name", "")
    identity += [i for i, u in enumerate(utterances) if u.speaker in ("agent", "unknown") and asks_for_borrower(u.text, borrower)]
    covered = {m.value for m in matches if m.kind == "topic" and utterances[m.utterance].speaker in ("agent", "unknown")}
    covered |= {fact for fact, decision in facts.items() if decision["value"] != "not_mentioned"}
    required = required_topics(manifest)
    order = ["fund_use", "repayment_ability", "collateral_status", "project_progress", "business_condition", "info"]
    topics_covered = [t for t in order if t in covered and t != "info"]
    connected = outcome == "connected"
    topics_missing = [t for t in required if t not in covered] if connected else []
    prohibited = []
    flags: list[Flag] = []
    for m in agent_matches:
        if m.value not in _PROHIBITED:
            continue
        if m.value == "third_party_disclosure" and outcome != "wrong_party":
            continue  # talking about the debt with the borrower is the point of the call
        utt = utterances[m.utterance]
        prohibited.append({"type": m.value, "rule_id": m.rule_id, "text": utt.text, "start": utt.start, "end": utt.end, "speaker": utt.speaker})
        flags.append(Flag("AGENT_NONCOMPLIANCE", "high", f"坐席{_PROHIBITED[m.value]}", [m.utterance]))
    if connected and not recording:
        flags.append(Flag("AGENT_NONCOMPLIANCE", "medium", "坐席未告知通话录音"))
    if connected and not identity:
        flags.append(Flag("AGENT_NONCOMPLIANCE", "medium", "坐席未核实客户身份"))
    return Compliance(
        recording_disclosed=bool(recording),
        identity_verified=bool(identity),
        topics_covered=topics_covered,
        topics_missing=topics_missing,
        prohibited_language=prohibited,
        flags=flags,
    )
