"""One call from audio to contract summary: the library's main entry point.

``analyze_transcript`` holds every text stage (outcome, facts, flags, risk,
compliance, summary) so it can run on stored transcripts without audio;
``analyze_call`` adds decoding and transcription in front of it.
"""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import __version__
from pipeline.speech.audio import DecodedAudio, audio_truncation, is_dual_mono, is_silent, iter_windows, probe
from pipeline.judgement.compliance import assess
from pipeline.errors import HuifangError
from pipeline.facts.extract import VOTE_FLOOR, FactDecision, Match, answer_matches, borrower_came_on, decide_fact, heard_reading, match_rules, other_debt_question
from pipeline.text.homophones import NameCorrector
from pipeline.labels import FACTS, SCHEMA_VERSION
from pipeline.facts.lexicon import Lexicon, load_lexicon
from pipeline.manifest import CallSpec
from pipeline.text.normalize import ascii_digits, corrector_for, digit_heard, normalise_for_extraction
from pipeline.outputs.privacy import mask_pii
from pipeline.judgement.risk import Flag, actions_for, conduct_level, fact_flags, merge_flags, risk_level, use_fits_purpose
from pipeline.speech.speakers import attribute_mono, attribute_two_channel, carrier_kind, merge_turns
from pipeline.speech.vad import pause_points
from pipeline.outputs.summary import write_summary
from pipeline.speech.transcript import Utterance, shift_utterances
from pipeline.speech.voice import utterance_voice

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


def _evidence(utterances: list[Utterance], indexes: list[int], matches: list[Match] | None = None) -> list[dict]:
    rule_of = {}
    for m in matches or []:
        rule_of.setdefault(m.utterance, m.rule_id)
    items = []
    for i in indexes[:3]:
        u = utterances[i]
        item = {"start": round(u.start, 2), "end": round(u.end, 2), "speaker": u.speaker, "text": mask_pii(u.text)}
        if i in rule_of:
            item["rule_id"] = rule_of[i]
        items.append(item)
    return items


def _signal_flags(matches: list[Match], utterances: list[Utterance], facts: dict[str, FactDecision]) -> list[Flag]:
    """Flags that stand on the borrower's words beyond the five facts."""
    reasons = {
        "OTHER_DEBT": ("medium", "客户提及其他贷款或负债"),
        "LITIGATION": ("high", "客户提及诉讼或法院执行"),
        "INFO_CHANGED": ("medium", "客户信息发生变化（工作、住址、电话或婚姻等）"),
        "CUSTOMER_COMPLAINT": ("medium", "客户表达不满或投诉意向"),
    }
    by_code: dict[str, list[int]] = {}
    for m in matches:
        if m.kind == "signal" and not m.negated and utterances[m.utterance].speaker in ("customer", "unknown"):
            by_code.setdefault(m.value, []).append(m.utterance)
    if facts["fund_use"].value == "repay_other_debt" or facts["collateral_status"].value == "re_pledged":
        source = facts["fund_use"] if facts["fund_use"].value == "repay_other_debt" else facts["collateral_status"]
        by_code.setdefault("OTHER_DEBT", []).extend(source.evidence)
    if facts["collateral_status"].value == "seized":
        by_code.setdefault("LITIGATION", []).extend(facts["collateral_status"].evidence)
    return [Flag(code, reasons[code][0], reasons[code][1], sorted(set(idx))) for code, idx in by_code.items()]


# Specific business uses a contract can name. A contract for working capital
# (经营周转, 流动资金) allows any of them; a contract for equipment does not
# allow spending the money on wages.
BUSINESS_USES = {
    "equipment": re.compile(r"设备|机器|机床|生产线|车床|冲床"),
    "materials": re.compile(r"原材料|原料|材料|进货|备货|货款|钢材"),
    "wages": re.compile(r"工资|薪水|发工资"),
    "rent": re.compile(r"租金|房租|厂租|店租"),
    "project": re.compile(r"项目|工程|建设|施工|工地|基建"),
}


def business_uses(text: str) -> set[str]:
    return {name for name, pattern in BUSINESS_USES.items() if pattern.search(text)}


def matches_contract(fund_use: str, purpose: str, lexicon: Lexicon | None = None, evidence_texts: list[str] | None = None, admitted_mismatch: bool = False) -> bool | None:
    """Whether the stated use fits the contract's purpose; None when the use is unknown.

    The loan's type (``risk.loan_type``) decides which use is proper: consumption
    on a consumer or renovation loan, business_operation on every other loan;
    stocks, property, other debts and lending on never fit. On a business-type
    loan for one named thing (equipment, not working capital), a stated
    business use of another kind (wages, rent) does not fit either.
    """
    fits = use_fits_purpose(fund_use, purpose)
    if fits is None:
        return None
    if admitted_mismatch:
        return False  # the borrower said so
    if not fits:
        return False
    if fund_use == "business_operation" and evidence_texts:
        allowed = business_uses(purpose)
        if "project" in allowed:  # a project loan pays its materials, wages, machines and rent
            allowed |= {"materials", "wages", "equipment", "rent"}
        stated = set().union(*(business_uses(t) for t in evidence_texts))
        general = any(w in purpose for w in ("周转", "流动资金", "经营"))
        if allowed and not general and stated and not (stated & allowed):
            return False  # e.g. an equipment loan spent on wages and rent
    return True


def _classifier_votes(utterances: list[Utterance], classifiers, lexicon: Lexicon) -> dict[str, list[tuple[int, str, float]]]:
    votes: dict[str, list[tuple[int, str, float]]] = {fact: [] for fact in FACTS}
    if classifiers is None:
        return votes
    from pipeline.facts.classify import make_input

    indexes, inputs, contexts = [], [], []
    for i, utt in enumerate(utterances):
        if utt.speaker not in ("customer", "unknown") or len(utt.norm_text) < 4:
            continue
        context = next((utterances[j].norm_text for j in range(i - 1, max(-1, i - 3), -1) if utterances[j].speaker == "agent"), "")
        indexes.append(i)
        contexts.append(context)
        inputs.append(make_input(context, heard_reading(utt.norm_text, lexicon)))
    if not inputs:
        return votes
    predictions = classifiers.predict_many(list(FACTS), inputs)
    for fact in FACTS:
        for i, context, (_best, _prob, dist) in zip(indexes, contexts, predictions[fact]):
            # The answer to "other loans?" is about those loans, never this loan's use.
            if fact == "fund_use" and other_debt_question(context):
                continue
            # Every value the classifier reads with some weight: decide_fact decides on the sure ones, reviews with the rest.
            for value, prob in dist.items():
                if value != "not_mentioned" and prob >= VOTE_FLOOR:
                    votes[fact].append((i, value, prob))
    return votes


# The classifier decides a fact alone only when it is this sure.
CLASSIFIER_MIN_PROB = 0.75


def correct_in_call_context(utterances: list[Utterance], lexicon: Lexicon) -> None:
    """Domain corrections the utterance alone could not justify, taken again knowing the call is about a loan.

    Transcription corrects each utterance on its own words; a short answer
    (房子没有再比压给别人) shows no domain term, but the rest of the call may
    (the agent's script: 贷后回访, 贷款, 还款). Only then is the weaker,
    call-level evidence of ``TermCorrector.correct`` used (issue 17: a
    rewrite needs both the sound and the context).
    """
    corrector = corrector_for(lexicon)
    cued = [corrector.cues_in(u.text) for u in utterances]
    if len(set().union(*cued)) < CALL_CUES:
        return  # not recognisably a follow-up call (a wrong number, a voicemail, someone else's conversation)
    about = "|".join(u.text for u, cue in zip(utterances, cued) if cue)
    for utt, cue in zip(utterances, cued):
        if cue or not utt.raw_text or not corrector.withheld(utt.raw_text):
            continue  # its own words were evidence enough, or no rewrite waited for more
        text, corrections = corrector.correct(utt.raw_text, context=about)
        if text != utt.text:
            utt.text = text
            utt.norm_text = normalise_for_extraction(text)
            utt.corrections = [c.__dict__ for c in corrections]


# Distinct domain terms named in a call that make it recognisably a follow-up call.
CALL_CUES = 2


def correct_borrower_name(utterances: list[Utterance], name: str) -> None:
    """The manifest knows the borrower's name: same-sounding misspellings of it are fixed in place."""
    corrector = NameCorrector(name)
    for utt in utterances:
        _keep_written_name(utt, corrector.written(utt.raw_text or ""))
        text, corrections = corrector.correct(utt.text)
        if corrections:
            _apply_corrections(utt, text, [c.__dict__ for c in corrections])


def _keep_written_name(utt: Utterance, name_at: set[int]) -> None:
    """Undo domain corrections that touched the borrower's name where Whisper wrote it right (李秀兰 stays 李秀兰)."""
    if not name_at or len(utt.text) != len(utt.raw_text):
        return  # corrections keep lengths, so offsets in raw_text and text agree
    undo = [c for c in utt.corrections if any(k in name_at for k in range(c["start"], c["end"]))]
    if not undo:
        return
    text = list(utt.text)
    for c in undo:
        text[c["start"] : c["end"]] = utt.raw_text[c["start"] : c["end"]]
    utt.text = "".join(text)
    utt.norm_text = normalise_for_extraction(utt.text)
    utt.corrections = [c for c in utt.corrections if c not in undo]


def _apply_corrections(utt: Utterance, text: str, corrections: list[dict]) -> None:
    """Give an utterance its corrected text (and what extraction reads), recording each change beside the others."""
    utt.text = text
    utt.norm_text = normalise_for_extraction(text)
    utt.corrections = sorted(list(utt.corrections) + corrections, key=lambda c: c["start"])


# The agent asks for the last four digits of the ID card (or of a number); the answer follows.
_FOUR_DIGIT_CUE = re.compile(r"(?:后|最后|末)(?:四|4)位|尾号")
_DIGITS_SO_FAR = re.compile(r"[是为：:，,\s]*([0-9零〇一二两三四五六七八九幺]*)")
_ANSWER_LEAD = re.compile(r"^[，。,.\s]*(?:(?:嗯|对|好|是的|后四位是|后四位)[，,\s]*)?")


def read_requested_digits(utterances: list[Utterance]) -> None:
    """After 身份证后四位, the four characters said next are digits: 林妖九三 → 零幺九三.

    Whisper writes digits read one by one as whatever characters sound like
    them. Only where four digits are due (right after the cue in the same
    utterance, or at the start of the next) and every character there sounds
    like one (``normalize.digit_heard``) are they rewritten, so an answer in
    words is left alone.
    """
    for index, utt in enumerate(utterances):
        cue = None
        for cue in _FOUR_DIGIT_CUE.finditer(utt.text):
            pass
        if cue is None:
            continue
        said = _DIGITS_SO_FAR.match(utt.text, cue.end())
        need = 4 - len(said.group(1))
        if need <= 0:
            continue
        places = [(utt, said.end())]
        if index + 1 < len(utterances):
            following = utterances[index + 1]
            places.append((following, _ANSWER_LEAD.match(following.text).end()))
        for target, offset in places:
            if _rewrite_digits(target, offset, need):
                break


def _rewrite_digits(utt: Utterance, offset: int, count: int) -> bool:
    """Rewrite ``count`` characters at ``offset`` as the digits they sound like, if all do and no word goes on after them."""
    window = utt.text[offset : offset + count]
    follows = utt.text[offset + count : offset + count + 1]
    if len(window) < count or follows.isdigit() or (follows and "\u4e00" <= follows <= "\u9fff"):
        return False
    digits = [digit_heard(ch) for ch in window]
    if any(d is None for d in digits):
        return False
    spoken = "".join(digits)
    if any(ch.isascii() and ch.isdigit() for ch in window):
        spoken = ascii_digits(spoken)  # written like the digits beside them: 自510 → 4510
    if spoken != window:
        text = utt.text[:offset] + spoken + utt.text[offset + count :]
        _apply_corrections(utt, text, [{"start": offset, "end": offset + count, "original": window, "corrected": spoken}])
    return True


def analyze_transcript(
    utterances: list[Utterance],
    manifest: dict,
    *,
    call_id: str,
    duration_s: float,
    lexicon: Lexicon | None = None,
    classifiers=None,
) -> dict:
    """Every text stage on an attributed transcript; returns the contract summary (without I/O)."""
    lexicon = lexicon or load_lexicon()
    correct_in_call_context(utterances, lexicon)
    correct_borrower_name(utterances, manifest.get("borrower_name", ""))
    read_requested_digits(utterances)
    matches = match_rules(utterances, lexicon)
    matches += answer_matches(utterances, lexicon)
    outcome = decide_outcome(utterances, matches, lexicon, manifest.get("borrower_name", ""))
    connected = outcome.value == "connected"
    topics = {m.value for m in matches if m.kind == "topic"}
    votes = _classifier_votes(utterances, classifiers, lexicon) if connected else {fact: [] for fact in FACTS}
    decisions: dict[str, FactDecision] = {}
    for fact in FACTS:
        if connected:
            decisions[fact] = decide_fact(fact, matches, votes[fact], topic_raised=fact in topics, utterances=utterances)
        else:
            decisions[fact] = FactDecision("not_mentioned", 0.95)
    facts_json: dict[str, dict] = {}
    for fact, decision in decisions.items():
        facts_json[fact] = {
            "value": decision.value,
            "confidence": decision.confidence,
            "needs_review": decision.needs_review,
            "review_reasons": decision.review_reasons,
            "evidence": _evidence(utterances, decision.evidence, decision.matches),
            "method": decision.method,
            "evidence_idx": decision.evidence,
        }
    fund = facts_json["fund_use"]
    fund_texts = [utterances[i].text for i in decisions["fund_use"].evidence]
    admitted = any(m.label == "contract:mismatch" and utterances[m.utterance].speaker in ("customer", "unknown") for m in matches)
    fund["matches_contract"] = matches_contract(fund["value"], manifest.get("loan_purpose", ""), lexicon, fund_texts, admitted)
    facts_json["fund_use"] = {"value": fund["value"], "matches_contract": fund["matches_contract"], **{k: v for k, v in fund.items() if k not in ("value", "matches_contract")}}

    flags = fact_flags(facts_json, outcome.value, manifest.get("loan_purpose", ""))
    if connected:
        flags += _signal_flags(matches, utterances, decisions)
    compliance = assess(utterances, matches, facts_json, manifest, outcome.value)
    flags = merge_flags(flags + compliance.flags)
    level = risk_level(flags)  # credit flags only
    conduct = conduct_level(flags)  # conduct flags only
    actions = actions_for(flags, level, decisions["fund_use"].value, decisions["fund_use"].confidence)
    if outcome.value != "connected":
        flags_evidence = outcome.evidence
        for flag in flags:
            if flag.code == "CONTACT_FAILED":
                flag.evidence = flags_evidence
    for fact in facts_json.values():
        fact.pop("evidence_idx", None)

    terms_by_utt: dict[int, list[dict]] = {}
    for m in matches:
        if m.source == "rule":
            terms_by_utt.setdefault(m.utterance, []).append(m.term())
    transcript = []
    for i, utt in enumerate(utterances):
        item = utt.to_json()
        item["text"] = mask_pii(item["text"])
        item["raw_text"] = mask_pii(item["raw_text"])
        item["norm_text"] = mask_pii(item["norm_text"])
        item["terms"] = sorted(terms_by_utt.get(i, []), key=lambda t: t["start"])
        transcript.append({"start": item.pop("start"), "end": item.pop("end"), "speaker": item.pop("speaker"), "text": item.pop("text"), **item})

    summary = {
        "schema_version": SCHEMA_VERSION,
        "call_id": call_id,
        "loan_id": manifest.get("loan_id") or None,
        "status": "analyzed",
        "error": None,
        "call_outcome": outcome.value,
        "duration_s": round(float(duration_s), 2),
        "transcript": transcript,
        "facts": facts_json,
        "flags": [
            {"code": f.code, "severity": f.severity, "reason": f.reason, "evidence": _evidence(utterances, f.evidence)}
            for f in flags
        ],
        "risk_level": level,
        "conduct_level": conduct,
        "actions": actions,
        "agent_compliance": compliance.to_json(),
        "summary_zh": "",
        "carrier_message": outcome.carrier_message,
        "manifest": {k: mask_pii(str(v)) for k, v in manifest.items()},
    }
    summary["summary_zh"] = mask_pii(write_summary(summary, {}))
    return summary


# Audio a truncated recording must still hold, with nobody answering, before it counts as unanswered.
UNANSWERED_MIN_S = 30.0


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


def failed_summary(call_id: str, manifest: dict, error: str, *, audio_path: str | None = None) -> dict:
    """A contract-shaped summary for a call we could not analyse: every key present, nothing invented."""
    return {
        "schema_version": SCHEMA_VERSION,
        "call_id": call_id,
        "loan_id": manifest.get("loan_id") or None,
        "status": "failed",
        "error": mask_pii(error),
        "call_outcome": None,
        "duration_s": None,
        "transcript": [],
        "facts": {fact: {"value": None, "confidence": None, "needs_review": False, "evidence": [], **({"matches_contract": None} if fact == "fund_use" else {})} for fact in FACTS},
        "flags": [],
        "risk_level": None,
        "conduct_level": None,
        "actions": [],
        "agent_compliance": {"recording_disclosed": None, "identity_verified": None, "topics_covered": [], "topics_missing": [], "prohibited_language": []},
        "summary_zh": f"本通录音无法分析：{mask_pii(error)}",
        "audio_path": audio_path,
        "manifest": {k: mask_pii(str(v)) for k, v in manifest.items()},
    }


def transcribe_call(call: CallSpec, transcriber, classifiers=None) -> tuple[list[Utterance], float, dict]:
    """Decode, transcribe each channel, attribute speakers. Returns (utterances, duration, details).

    A recording that fits in one window (every normal call) takes the whole-file
    path; a longer one is streamed window by window so memory stays bounded.
    """
    settings = transcriber.settings
    info = probe(call.audio_file)
    skipped = [0]  # frames the decoder rejected
    windows = iter_windows(call.audio_file, settings.window_s, settings.max_duration_s, info, skipped)
    first = next(windows)
    second = next(windows, None)
    details: dict = {"source_channels": info.channels, "source_rate": info.rate}
    if second is None:
        audio = DecodedAudio(call.audio_file, first.channels, info.channels, info.rate)
        if is_dual_mono(audio.channels):
            audio.channels = [audio.channels[0]]
        utterances, duration, details = _transcribe_whole(audio, call, transcriber, classifiers, details)
    else:
        utterances, duration, details = _transcribe_windowed(itertools.chain([first, second], windows), call, transcriber, classifiers, details)
    damaged = audio_truncation(call.audio_file, info, duration, skipped[0])
    if damaged:
        details["audio_warning"] = damaged
    return utterances, duration, details


def _transcribe_whole(audio: DecodedAudio, call: CallSpec, transcriber, classifiers, details: dict) -> tuple[list[Utterance], float, dict]:
    """The whole recording at once: two channels apart, or mono with pause-split utterances."""
    lexicon = transcriber.lexicon
    details = {"channels": len(audio.channels), **details}
    if audio.is_two_channel:
        by_channel = {}
        for name, samples in zip(("left", "right"), audio.channels):
            by_channel[name] = [] if is_silent(samples) else _transcribe(transcriber, samples, name)
        utterances, agent_channel, how = attribute_two_channel(by_channel, call.agent_channel, lexicon)
        details.update(agent_channel=agent_channel, agent_channel_source=how)
    else:
        samples = audio.channels[0]
        utterances = [] if is_silent(samples) else _transcribe(transcriber, samples, "mono")
        utterances = merge_turns(attribute_mono(utterances, lexicon, classifiers, samples=samples))
    return utterances, audio.duration_s, details


def _transcribe(transcriber, samples: np.ndarray, channel: str) -> list[Utterance]:
    """One channel (or window of it) to utterances; mono is split at pauses (a change of speaker)."""
    if channel == "mono":
        return transcriber.transcribe(samples, channel="mono", pauses=pause_points(samples))
    return transcriber.transcribe(samples, channel=channel)


def _window_mode(channels: list[np.ndarray]) -> str | None:
    """``two`` for two different channels, ``mono`` for one (or dual mono); None while both are silent."""
    if len(channels) == 1:
        return "mono"
    if all(is_silent(ch) for ch in channels):
        return None
    return "mono" if is_dual_mono(channels) else "two"


def _transcribe_windowed(windows, call: CallSpec, transcriber, classifiers, details: dict) -> tuple[list[Utterance], float, dict]:
    """Transcribe window by window, move each window's times to recording time, attribute speakers once at the end.

    Whether a two-channel file is dual mono is decided on its first window with
    sound and kept for the whole file, so speakers are attributed one way. A
    later window that does not fit (rare) is still transcribed in full: as the
    mean of both channels on a dual-mono file, channel by channel otherwise.
    """
    mode: str | None = None
    mono: list[Utterance] = []
    voices: dict[int, np.ndarray | None] = {}
    by_channel: dict[str, list[Utterance]] = {"left": [], "right": []}
    count, end_s = 0, 0.0
    for window in windows:
        count, end_s = count + 1, window.start_s + window.duration_s
        mode = mode or _window_mode(window.channels)
        if mode == "two":
            for name, samples in zip(("left", "right"), window.channels):
                if not is_silent(samples):
                    by_channel[name] += shift_utterances(_transcribe(transcriber, samples, name), window.start_s)
        elif mode == "mono":
            samples = window.channels[0] if len(window.channels) == 1 or is_dual_mono(window.channels) else np.mean(window.channels, axis=0)
            if not is_silent(samples):
                found = _transcribe(transcriber, samples, "mono")
                # the window's audio is gone after this loop: keep each utterance's voice frames (about 6 kB per second of speech)
                voices.update((id(u), utterance_voice(samples, u.start, u.end)) for u in found)
                mono += shift_utterances(found, window.start_s)
    details.update(channels=2 if mode == "two" else 1, windows=count, window_s=transcriber.settings.window_s)
    if mode == "two":
        utterances, agent_channel, how = attribute_two_channel(by_channel, call.agent_channel, transcriber.lexicon)
        details.update(agent_channel=agent_channel, agent_channel_source=how)
    else:
        utterances = merge_turns(attribute_mono(mono, transcriber.lexicon, classifiers, voice_of=lambda u: voices.get(id(u))))
    return utterances, round(end_s, 3), details


def analyze_call(call: CallSpec, transcriber, classifiers=None) -> dict:
    """Audio to contract summary for one call; a bad recording becomes a ``failed`` summary."""
    return analyze_call_keeping_raw(call, transcriber, classifiers)[0]


def unmasked_transcript(utterances: list[Utterance]) -> list[dict]:
    """The transcript before masking, for the restricted file only (``--keep-raw-transcript``)."""
    keep = ("start", "end", "speaker", "text", "raw_text")
    return [{k: v for k, v in utt.to_json().items() if k in keep} for utt in utterances]


def analyze_call_keeping_raw(call: CallSpec, transcriber, classifiers=None) -> tuple[dict, list[dict] | None]:
    """``analyze_call`` plus the unmasked transcript (None when the call failed).

    The unmasked text exists only here, before ``analyze_transcript`` masks it;
    it is returned apart from the summary so it cannot slip into any output.
    """
    started = time.perf_counter()
    try:
        utterances, duration, details = transcribe_call(call, transcriber, classifiers)
        summary = analyze_transcript(
            utterances, call.row, call_id=call.call_id, duration_s=duration, lexicon=transcriber.lexicon, classifiers=classifiers
        )
    except HuifangError as exc:
        return failed_summary(call.call_id, call.row, str(exc), audio_path=call.audio_path), None
    undetermined = outcome_lost_with_audio(summary, details.get("audio_warning"), duration)
    if undetermined:
        summary = failed_summary(call.call_id, call.row, undetermined, audio_path=call.audio_path)
        summary["duration_s"] = round(float(duration), 2)
    summary["audio_path"] = call.audio_path
    summary["analysis"] = {
        "pipeline_version": __version__,
        "model": transcriber.settings.model,
        "device": transcriber.settings.device,
        "compute_type": transcriber.settings.compute_type,
        "decode_options": {k: v for k, v in transcriber.options().items() if k != "initial_prompt"},
        "elapsed_s": round(time.perf_counter() - started, 2),
        **details,
    }
    return summary, None if undetermined else unmasked_transcript(utterances)
