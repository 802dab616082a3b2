"""Corrections that need the whole call or the manifest: the text stage's entry point, ``correct_call``.

Transcription corrects each utterance on its own words (``normalize``,
``homophones``). Three corrections need more than one utterance: a domain
term the call's topic justifies, the borrower's name the manifest knows, and
the ID digits an agent's question announces. They run here, in this order,
after attribution and before facts are read.
"""
from __future__ import annotations

import re

from pipeline.facts.lexicon import Lexicon
from pipeline.speech.transcript import Utterance
from pipeline.text.homophones import NameCorrector
from pipeline.text.normalize import ascii_digits, corrector_for, digit_heard, normalise_for_extraction

# Distinct domain terms named in a call that make it recognisably a follow-up call.
CALL_CUES = 2


def correct_call(utterances: list[Utterance], manifest: dict, lexicon: Lexicon) -> list[Utterance]:
    """Every call-level correction, in place; returns the same utterances for a readable pipeline."""
    correct_in_call_context(utterances, lexicon)
    correct_borrower_name(utterances, manifest.get("borrower_name", ""))
    read_requested_digits(utterances)
    return utterances


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
