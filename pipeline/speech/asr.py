"""Transcription of one channel with faster-whisper, with guards against its failure modes.

Output is Simplified Chinese utterances with word timestamps; looping output is
cut, text on silence or noise is dropped, and misheard domain terms are
corrected with the original kept beside the correction.
"""
from __future__ import annotations

import bisect
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from pipeline.speech.audio import SAMPLE_RATE, SILENCE_RMS, rms
from pipeline.config import Settings
from pipeline.facts.lexicon import Lexicon, load_lexicon
from pipeline.text.normalize import corrector_for, fullwidth_punctuation, normalise_for_extraction, to_simplified
from pipeline.speech.transcript import Utterance, Word, shift_utterances

# A phrase of 2-12 characters repeated 3+ times in a row, or one character 4+ times,
# is a decoding loop ("对对对" is speech and stays).
_LOOP = re.compile(r"(.{2,12}?)\1{2,}")
_CHAR_LOOP = re.compile(r"(.)\1{3,}")
# A pause this long between words starts a new utterance.
UTTERANCE_GAP_S = 0.8
_SENTENCE_END = "。！？!?"
_CLAUSE_END = "，。！？,.!?"
# A pause more than this far from any word boundary does not cut.
PAUSE_SNAP_S = 0.5


# Silero VAD settings for decoding (faster-whisper drops the silence between these regions).
VAD_PARAMETERS = {"min_silence_duration_ms": 400, "speech_pad_ms": 200}
# Speech this long that no utterance covers (at most this share) is decoded again on its own.
MISSED_SPEECH_MIN_S = 1.0
MISSED_COVERED_MAX = 0.2
# Regions of missed speech closer than this are decoded together, with this much audio around them.
MISSED_JOIN_S = 1.0
MISSED_MARGIN_S = 0.3


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of the speech the decoding VAD finds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(samples, VadOptions(**VAD_PARAMETERS))
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def missed_speech(regions: list[tuple[float, float]], utterances) -> list[tuple[float, float]]:
    """Stretches of speech (joined when close) that nothing Whisper wrote covers: it skipped them.

    ``utterances`` are anything with ``start`` and ``end``: the segments Whisper
    returned, including those the guards then dropped (decoding those again
    costs a decode and brings back what the guards dropped).
    """
    missed: list[tuple[float, float]] = []
    joinable = False  # the previous region was missed too (never join across one that was heard)
    for start, end in regions:
        covered = sum(max(0.0, min(end, u.end) - max(start, u.start)) for u in utterances)
        if covered > MISSED_COVERED_MAX * (end - start):
            joinable = False
            continue
        if joinable and start - missed[-1][1] < MISSED_JOIN_S:
            missed[-1] = (missed[-1][0], end)
        else:
            missed.append((start, end))
        joinable = True
    return [(a, b) for a, b in missed if b - a >= MISSED_SPEECH_MIN_S]


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


def build_prompt(lexicon: Lexicon) -> str:
    """A Simplified-Chinese sentence about the call's domain: steers script and vocabulary.

    Measured on the whole sample batch (beam 8, with correction): CER 0.111
    with this sentence, 0.115 without a prompt, domain-term recall 0.93 vs
    0.90. Appending a list of lexicon terms made Whisper echo the terms on
    crosstalk and degenerate on one call (CER 0.34 on six calls), so the
    prompt stays a plain sentence; ``Settings.prompt = "none"`` turns it off.
    It steers the first 30-second window only (no previous text is carried):
    passed as faster-whisper's ``hotwords`` to every window instead it measured
    worse (CER 0.117 vs 0.107), so the lexicon's terms act after decoding
    (phrases, terms, homophone lattice) rather than as decoder hotwords.
    """
    return lexicon.prompt


# Mel frames per second, and in a full window.
_FRAMES_PER_S = 100
_FULL_WINDOW_FRAMES = 3000
# A window after the first that holds less audio than this is not decoded; a shorter window may write
# at most TAIL_TOKENS_BASE + TAIL_TOKENS_PER_S * seconds tokens (Mandarin is about 8 a second with timestamps).
TAIL_SKIP_S = 0.6
TAIL_TOKENS_BASE = 10
TAIL_TOKENS_PER_S = 20


def cap_short_windows(model):
    """Make the tail window of a recording free: skip it when it holds a fraction of a second, else cap its tokens.

    With word timestamps faster-whisper starts the next window at the last
    word's end, so nearly every recording ends with a window of a few tenths
    of a second (the VAD's padding), which Whisper already heard in the window
    before. It is encoded as a full 30-second window, Whisper often loops on it
    (请问问问…, 448 tokens), and the temperature fallback samples 5 more loops
    at each temperature: 10-30 s of work on a 4-second clip, for a segment the
    guards drop. Wraps the model's ``encode`` (pad_or_trim pads the window with
    zero columns, so the real length shows) and ``generate_with_fallback``;
    acts only while ``state.active`` (huifang's decodes, not plain ones on the
    same model), per thread, because worker threads share one model.
    Returns the per-thread state.
    """
    import threading
    from dataclasses import replace
    from types import SimpleNamespace

    if hasattr(model, "_huifang_tail_state"):
        return model._huifang_tail_state
    if not hasattr(model, "generate_with_fallback") or not hasattr(model, "encode"):
        return None
    state = threading.local()
    encode, generate = model.encode, model.generate_with_fallback

    def encode_noting_length(features):
        if not getattr(state, "active", False):
            return encode(features)
        frames = np.asarray(features)
        frames = frames[0] if frames.ndim == 3 else frames
        filled = np.flatnonzero(np.any(frames != 0, axis=0))
        state.seconds = (int(filled[-1]) + 1 if len(filled) else 0) / _FRAMES_PER_S
        state.windows = getattr(state, "windows", 0) + 1
        if state.windows > 1 and state.seconds < TAIL_SKIP_S:
            return None  # generate_capped answers "no speech" without the model
        return encode(features)

    def generate_capped(encoder_output, prompt, tokenizer, options):
        if not getattr(state, "active", False):
            return generate(encoder_output, prompt, tokenizer, options)
        if encoder_output is None and options.no_speech_threshold is not None:
            return SimpleNamespace(no_speech_prob=1.0, sequences_ids=[[]], scores=[0.0]), float("-inf"), 0.0, 0.0
        cap = int(TAIL_TOKENS_BASE + TAIL_TOKENS_PER_S * state.seconds)
        if cap < model.max_length - len(prompt) and (options.max_new_tokens is None or cap < options.max_new_tokens):
            options = replace(options, max_new_tokens=cap)
        return generate(encoder_output if encoder_output is not None else encode_full(), prompt, tokenizer, options)

    def encode_full():
        raise RuntimeError("tail window skipped without a no-speech threshold")

    model.encode = encode_noting_length
    model.generate_with_fallback = generate_capped
    model._huifang_tail_state = state
    return state


class Transcriber:
    """Holds one loaded Whisper model, shared by the worker threads of a process."""

    def __init__(self, settings: Settings, model=None, lexicon: Lexicon | None = None) -> None:
        from pipeline.speech.model_store import load_whisper

        self.settings = settings
        self.lexicon = lexicon or load_lexicon()
        self.model = model if model is not None else load_whisper(settings)
        self._tail = cap_short_windows(self.model) if settings.batch_size == 0 else None
        self._decoder = self.model
        if settings.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            self._decoder = BatchedInferencePipeline(self.model)
        self.guard = SegmentGuard()
        self.prompt = build_prompt(self.lexicon) if settings.prompt == "lexicon" else None
        self._corrector = corrector_for(self.lexicon)

    def options(self) -> dict:
        """Decoding options; stored with every result."""
        return {
            "language": self.settings.language,
            "beam_size": self.settings.beam_size,
            "vad_filter": self.settings.vad_filter,
            "word_timestamps": self.settings.word_timestamps,
            "initial_prompt": self.prompt,
            "condition_on_previous_text": False,
            # A doubtful segment (low log-probability, or a loop) is decoded again by
            # sampling at rising temperatures, the best of five kept: CER 0.097
            # instead of 0.118 on the sample batch. Sampling is random (CTranslate2
            # seeds each thread once), so ``deterministic`` turns it off for audits.
            "temperature": [0.0] if self.settings.deterministic else [0.0, 0.2, 0.4, 0.6],
            "compression_ratio_threshold": self.guard.max_compression_ratio,
            "log_prob_threshold": self.guard.min_avg_logprob,
            "no_speech_threshold": self.guard.no_speech_prob,
            "batch_size": self.settings.batch_size,
        }

    def transcribe(self, samples: np.ndarray, channel: str = "mono", pauses: list[float] | None = None) -> list[Utterance]:
        """Transcribe one 16 kHz channel into utterances (speaker still ``unknown``).

        ``pauses`` are times where the speaker may change (mono calls): utterances are split there.
        """
        if len(samples) == 0:
            return []
        utterances, heard = self._decode(samples, channel, pauses or [])
        if self.settings.vad_filter:
            # Whisper sometimes ends a 30-second window early and skips what follows (89 characters
            # of one sample call in one run); speech the VAD hears but no segment covers is decoded again.
            for start, end in missed_speech(speech_regions(samples), heard):
                lo, hi = max(0, int((start - MISSED_MARGIN_S) * SAMPLE_RATE)), min(len(samples), int((end + MISSED_MARGIN_S) * SAMPLE_RATE))
                offset = lo / SAMPLE_RATE
                clip_pauses = [p - offset for p in pauses or [] if lo / SAMPLE_RATE < p < hi / SAMPLE_RATE]
                utterances += shift_utterances(self._decode(samples[lo:hi], channel, clip_pauses)[0], offset)
            utterances.sort(key=lambda u: (u.start, u.end))
        return drop_repeated_utterances(utterances)

    def _decode(self, samples: np.ndarray, channel: str, pauses: list[float]) -> tuple[list[Utterance], list[Utterance]]:
        """Utterances kept, and every segment Whisper returned (as bare times, for ``missed_speech``)."""
        opts = self.options()
        extra = {"batch_size": self.settings.batch_size} if self.settings.batch_size > 0 else {}
        # CTranslate2 runs up to ``workers`` transcriptions at once on one shared model.
        segments, _info = self._decoder.transcribe(
            samples,
            language=opts["language"],
            beam_size=opts["beam_size"],
            vad_filter=opts["vad_filter"],
            vad_parameters=VAD_PARAMETERS,
            word_timestamps=opts["word_timestamps"],
            initial_prompt=opts["initial_prompt"],
            condition_on_previous_text=False,
            temperature=opts["temperature"],
            compression_ratio_threshold=opts["compression_ratio_threshold"],
            log_prob_threshold=opts["log_prob_threshold"],
            no_speech_threshold=opts["no_speech_threshold"],
            **extra,
        )
        if self._tail is not None:
            self._tail.active, self._tail.windows = True, 0
        try:
            segments = list(segments)
        finally:
            if self._tail is not None:
                self._tail.active = False
        heard = [Utterance(start=s.start, end=s.end, text="") for s in segments]
        utterances: list[Utterance] = []
        for segment in segments:
            if not self._keep(segment, samples):
                continue
            words = [Word(w.start, w.end, to_simplified(w.word), w.probability) for w in (segment.words or [])]
            text = to_simplified(segment.text)
            if self.prompt:
                # Whisper copies its prompt when the audio is hard (a camping plan came out as
                # "…录音，内容涉及贷款资金用途…"): a stretch of it six characters or longer is cut.
                words = words_without_prompt_runs(words, self.prompt)
                text = "".join(w.text for w in words) if segment.words else cut_prompt_runs(text, self.prompt)
                if segment.words and not words:
                    continue
            for start, end, text, words in self._split(segment.start, segment.end, text, words, pauses):
                utterance = self._finish(start, end, text, words, segment.avg_logprob, channel)
                if utterance is not None:
                    utterances.append(utterance)
        return utterances, heard

    def _keep(self, segment, samples: np.ndarray) -> bool:
        guard = self.guard
        if segment.no_speech_prob > guard.no_speech_prob and segment.avg_logprob < guard.min_avg_logprob:
            return False
        if segment.avg_logprob < guard.hard_min_avg_logprob:
            return False
        lo = max(0, int(segment.start * SAMPLE_RATE))
        hi = min(len(samples), int(math.ceil(segment.end * SAMPLE_RATE)))
        return rms(samples[lo:hi]) >= SILENCE_RMS  # text over silence is invented

    @staticmethod
    def _split(seg_start: float, seg_end: float, text: str, words: list[Word], pauses: list[float]) -> list[tuple[float, float, str, list[Word]]]:
        """Split a segment at pauses (on mono often a change of speaker) and at long gaps between words.

        Whisper's word times drift by a few tenths of a second, so each pause
        inside the segment cuts at the nearest word boundary, preferring one
        that ends a clause.
        """
        if not words:
            return [(seg_start, seg_end, text, [])]
        cuts: set[int] = set()  # split after word k
        for k, (prev, word) in enumerate(zip(words, words[1:])):
            gap = word.start - prev.end
            if gap >= UTTERANCE_GAP_S or (gap >= 0.35 and prev.text.strip()[-1:] in _SENTENCE_END):
                cuts.add(k)
        inside = [p for p in pauses if words[0].start < p < words[-1].end]
        clause_ends = [k for k, w in enumerate(words[:-1]) if w.text.strip()[-1:] in _CLAUSE_END]
        for pause in inside:
            # Whisper's punctuation marks turn ends more reliably than its word times.
            cut = Transcriber._nearest_boundary(words, clause_ends, pause, PAUSE_SNAP_S)
            if cut is None:
                cut = Transcriber._nearest_boundary(words, range(len(words) - 1), pause, PAUSE_SNAP_S / 2)
            if cut is not None:
                cuts.add(cut)
        parts: list[list[Word]] = [[]]
        for k, word in enumerate(words):
            parts[-1].append(word)
            if k in cuts:
                parts.append([])
        return [(p[0].start, p[-1].end, "".join(w.text for w in p), p) for p in parts if p]

    @staticmethod
    def _nearest_boundary(words: list[Word], candidates, pause: float, limit: float) -> int | None:
        best, best_cost = None, limit
        for k in candidates:
            cost = abs((words[k].end + words[k + 1].start) / 2 - pause)
            if cost < best_cost:
                best, best_cost = k, cost
        return best

    def _finish(self, start: float, end: float, text: str, words: list[Word], avg_logprob: float, channel: str) -> Utterance | None:
        if only_a_loop(text):
            return None
        raw = cut_phrase_loops(cut_loops(fullwidth_punctuation(strip_subtitle_phrases(to_simplified(strip_garbage(text).strip())))))
        if not _HAS_CJK.search(raw):
            return None  # nothing but punctuation, control or stray Latin characters
        if words and len(raw.strip(" ，。,.!?！？…")) <= SHORT_UTTERANCE_CHARS and np.mean([w.probability for w in words]) < MIN_SHORT_CONFIDENCE:
            return None  # a word or two said with little confidence: crosstalk or line noise
        confidence = float(np.mean([w.probability for w in words])) if words else math.exp(min(0.0, avg_logprob))
        if too_fast_to_be_said(raw, round(float(end), 2) - round(float(start), 2), confidence):
            return None
        corrected, corrections = self._corrector.correct(raw)
        for word in words:
            word.text = to_simplified(word.text)
        return Utterance(
            start=round(float(start), 2),
            end=round(float(end), 2),
            text=corrected,
            channel=channel,
            raw_text=raw,
            norm_text=normalise_for_extraction(corrected),
            confidence=confidence,
            words=words,
            corrections=[c.__dict__ for c in corrections],
        )
