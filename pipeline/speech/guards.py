"""Guards against Whisper's failure modes on one decoded segment or utterance.

Why a module of its own: these are pure text rules (loops, subtitle credits,
the prompt copied into the transcript, impossible speaking rates), testable
without a model, while asr.py drives the decoder.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.speech.transcript import Utterance, Word
from pipeline.text.normalize import to_simplified

# A phrase of 2-12 characters repeated 3+ times in a row, or one character 4+ times,
# is a decoding loop ("对对对" is speech and stays).
_LOOP = re.compile(r"(.{2,12}?)\1{2,}")
_CHAR_LOOP = re.compile(r"(.)\1{3,}")


@dataclass(frozen=True)
class SegmentGuard:
    """Thresholds for dropping Whisper segments that are likely not speech."""

    no_speech_prob: float = 0.6
    min_avg_logprob: float = -1.0
    hard_min_avg_logprob: float = -1.6
    max_compression_ratio: float = 2.4


_HAS_CJK = re.compile(r"[\u4e00-\u9fff0-9]")
# Short utterances need this mean word probability to be believed.
SHORT_UTTERANCE_CHARS = 3
MIN_SHORT_CONFIDENCE = 0.4


def strip_garbage(text: str) -> str:
    """Drop format/control/private-use characters and U+FFFD that degenerate decodes produce."""
    return "".join(ch for ch in text if ch != "\ufffd" and unicodedata.category(ch) not in ("Cf", "Cc", "Co", "Cs"))


# What Whisper learned from subtitled videos and writes over music, ring tones and noise.
_SUBTITLE_HALLUCINATION = re.compile(
    r"(作词|作曲|编曲|演唱|字幕(由|提供|制作|组)?|中文字幕|请不吝点赞|点赞|订阅|转发|打赏|支持明镜|明镜与点点|点点栏目"
    r"|(谢谢|感谢)(大家|您的|你的)?(观看|收看|收听)|优优独播剧场|YoYo Television|Amara\.org)[：:，,。\s]*"
)


def strip_subtitle_phrases(text: str) -> str:
    """Remove the credits and sign-offs of subtitled videos (作词作曲, 谢谢观看): never said on a bank call."""
    return _SUBTITLE_HALLUCINATION.sub("", text)


# Faster than anyone speaks: more than this many characters per second (plus a few), said with low confidence,
# is Whisper echoing its prompt over a fraction of a second of audio (seen on a 0.3 s recording).
MAX_CHARS_PER_S = 8.0
IMPOSSIBLE_MAX_CONFIDENCE = 0.3
_SPOKEN_CHAR = re.compile(r"[\u4e00-\u9fff0-9]")


def too_fast_to_be_said(text: str, duration_s: float, confidence: float) -> bool:
    """True for text too long for its duration and said with low confidence."""
    chars = len(_SPOKEN_CHAR.findall(text))
    return chars > 3 + MAX_CHARS_PER_S * duration_s and confidence < IMPOSSIBLE_MAX_CONFIDENCE


_ONLY_A_LOOP = re.compile(r".?(?:(.{2,12}?)\1{3,}(.*)|(.)\3{5,}())")
_LOOP_PUNCT = re.compile(r"[\s，。,.!！?？、…：:]")


def only_a_loop(text: str) -> bool:
    """Nothing but one phrase said four or more times (a character six or more), maybe cut off at the
    end and after at most one other character.

    That is Whisper looping over noise (自行自行自行…自, 请问问问问…), not a person:
    the segment goes, where ``cut_loops`` would keep one copy of a loop inside speech.
    """
    match = _ONLY_A_LOOP.fullmatch(_LOOP_PUNCT.sub("", text))
    if match is None:
        return False
    unit, tail = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(3), match.group(4))
    return unit.startswith(tail)


def cut_loops(text: str) -> str:
    """Collapse a looping phrase to one occurrence (a looping character to two)."""
    return _CHAR_LOOP.sub(lambda m: m.group(1) * 2, _LOOP.sub(lambda m: m.group(1), text))


# A stretch of the initial prompt this long in a transcript was copied from the prompt, not heard.
PROMPT_RUN_CHARS = 6
_PROMPT_CHAR = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")


def prompt_runs(text: str, prompt: str | None, min_chars: int = PROMPT_RUN_CHARS) -> list[tuple[int, int]]:
    """(start, end) character spans of ``text`` that copy ``min_chars`` or more spoken characters of ``prompt`` in a row.

    Punctuation and spaces are skipped on both sides (Whisper re-punctuates
    what it copies); spans are maximal and index ``text`` itself.
    """
    if not prompt or not text:
        return []
    wanted = "".join(_PROMPT_CHAR.findall(to_simplified(prompt)))
    positions = [i for i, ch in enumerate(text) if _PROMPT_CHAR.match(ch)]
    chars = "".join(text[i] for i in positions)
    grams = {wanted[i : i + min_chars] for i in range(len(wanted) - min_chars + 1)}
    spans: list[tuple[int, int]] = []
    k = 0
    while k <= len(chars) - min_chars:
        if chars[k : k + min_chars] not in grams:
            k += 1
            continue
        end = k + min_chars
        while end < len(chars) and chars[k : end + 1] in wanted:
            end += 1
        start_i, end_i = positions[k], positions[end - 1] + 1
        if spans and start_i <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end_i)
        else:
            spans.append((start_i, end_i))
        k = end
    return spans


def cut_prompt_runs(text: str, prompt: str | None) -> str:
    """``text`` without the stretches it copied from the prompt (and the punctuation right after them)."""
    spans = prompt_runs(text, prompt)
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        last = end
        while last < len(text) and _LOOP_PUNCT.match(text[last]):
            last += 1
    parts.append(text[last:])
    return "".join(parts)


# The default prompt's 普通话 pulls the 通话 of the agent's recording notice into itself
# (本次通话录音 written 本次普通话录音 in 28 of 74 dev and eval calls, never said).
_PROMPT_WORD_IN_NOTICE = re.compile(r"普(?=通话[^，。？！,.?!]{0,3}?[录路露陆][音阴因])")


def prompt_word_in_notice(text: str, prompt: str | None) -> str:
    """``text`` without the 普 that the prompt's 普通话 put before 通话…录音."""
    if not prompt or "普通话" not in prompt or "普通话" not in text:
        return text
    return _PROMPT_WORD_IN_NOTICE.sub("", text)


def only_the_prompt(texts: list[str], prompt: str | None) -> bool:
    """Whether at least half of the segment texts are the prompt copied and nothing else spoken."""
    if not prompt or not texts:
        return False
    copied = sum(1 for text in texts if _PROMPT_CHAR.search(text) and not _PROMPT_CHAR.search(cut_prompt_runs(text, prompt)))
    return 2 * copied >= len(texts)


def words_without_prompt_runs(words: list[Word], prompt: str | None) -> list[Word]:
    """The words left once every copied stretch of the prompt is cut: a word goes when half its characters lie in one."""
    text = "".join(w.text for w in words)
    spans = prompt_runs(text, prompt)
    if not spans:
        return words
    kept, offset = [], 0
    for word in words:
        lo, hi = offset, offset + len(word.text)
        offset = hi
        inside = sum(max(0, min(hi, b) - max(lo, a)) for a, b in spans)
        spoken = len(_PROMPT_CHAR.findall(word.text))
        if spoken and inside * 2 >= max(1, hi - lo):
            continue
        kept.append(word)
    return kept


# Consecutive copies of one phrase, punctuation or spaces between them allowed.
_SPACED_LOOP = re.compile(r"((?:[\u4e00-\u9fff0-9A-Za-z]){2,12}?)(?:[\s，。,.!！?？、…：:]*\1){2,}")


def cut_phrase_loops(text: str) -> str:
    """A phrase said three or more times in a row (请收拾一下，请收拾一下，请收拾一下…) keeps one copy.

    Doubles stay (好的好的, 没有没有), and so do 对对对 and other single characters said three times.
    """
    return _SPACED_LOOP.sub(lambda m: m.group(1), text)


_NOT_SPOKEN = re.compile(r"[^\u4e00-\u9fff0-9A-Za-z]")


def drop_repeated_utterances(utterances: list[Utterance], limit: int = 3) -> list[Utterance]:
    """A run of ``limit`` or more utterances in a row that say the same phrase keeps only its first.

    Segment by segment the loop guards cannot see it: each segment is one
    phrase (请收拾一下 six times over, on a noisy telephone clip). Two in a row stay (喂？喂？), and so
    does one character said again and again (对。对。对。), as ``cut_phrase_loops`` keeps 对对对.
    """
    said = [_NOT_SPOKEN.sub("", u.raw_text or u.text) for u in utterances]
    kept: list[Utterance] = []
    k = 0
    while k < len(utterances):
        end = k + 1
        while end < len(utterances) and len(said[k]) >= 2 and said[end] == said[k]:
            end += 1
        kept.extend(utterances[k : k + 1] if end - k >= limit else utterances[k:end])
        k = end
    return kept
