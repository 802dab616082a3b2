"""Transcription of one channel with faster-whisper, with guards against its failure modes.

Output is Simplified Chinese utterances with word timestamps; looping output is
cut, text on silence or noise is dropped, and misheard domain terms are
corrected with the original kept beside the correction.
"""
from __future__ import annotations

import bisect
import math
import re
import threading
from dataclasses import dataclass

import numpy as np

from pipeline.speech.audio import SAMPLE_RATE, SILENCE_RMS, rms
from pipeline.config import Settings
from pipeline.facts.lexicon import Lexicon, load_lexicon
from pipeline.text.normalize import corrector_for, fullwidth_punctuation, normalise_for_extraction, to_simplified
from pipeline.speech.transcript import Utterance, Word, shift_utterances
from pipeline.speech.guards import (  # noqa: F401 - re-exported: the guards lived here before
    SegmentGuard, _HAS_CJK, SHORT_UTTERANCE_CHARS, MIN_SHORT_CONFIDENCE, strip_garbage,
    _SUBTITLE_HALLUCINATION, strip_subtitle_phrases, MAX_CHARS_PER_S, IMPOSSIBLE_MAX_CONFIDENCE, _SPOKEN_CHAR,
    too_fast_to_be_said, _ONLY_A_LOOP, _LOOP_PUNCT, only_a_loop, cut_loops,
    PROMPT_RUN_CHARS, _PROMPT_CHAR, prompt_runs, cut_prompt_runs, words_without_prompt_runs, only_the_prompt,
    prompt_word_in_notice,
    _SPACED_LOOP, cut_phrase_loops, _NOT_SPOKEN, drop_repeated_utterances, _LOOP,
    _CHAR_LOOP,
)

# A pause this long between words starts a new utterance.
UTTERANCE_GAP_S = 0.8
_SENTENCE_END = "。！？!?"
_CLAUSE_END = "，。！？,.!?"
# A pause more than this far from any word boundary does not cut.
PAUSE_SNAP_S = 0.5


# Silero VAD settings for finding speech that no segment covers (``speech_regions``): fine pauses.
VAD_PARAMETERS = {"min_silence_duration_ms": 400, "speech_pad_ms": 200}
# For decoding, faster-whisper's own defaults (2 s of silence, 0.4 s of padding): cutting the
# audio at every 0.4 s pause glued short stretches together without their context, and on real
# voices that cost CER against plain faster-whisper (which uses these defaults).
DECODE_VAD_PARAMETERS: dict[str, int] = {}
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
# A later window shorter than this is decoded at temperature 0 only, and dropped when still doubtful;
# when the window before it already reached the end of the audio, it is not decoded at all: Whisper
# heard all of it there (plain faster-whisper, without word timestamps, never decodes such a tail).
# On the real set no transcript changed; on 2-second calls it saved one 30-second encode in six.
TAIL_GREEDY_S = 3.0
TAIL_TOKENS_BASE = 10
TAIL_TOKENS_PER_S = 20


def cap_short_windows(model):
    """Make the tail window of a recording cheap: skip it when it holds a fraction of a second, else cap
    its tokens; a short one is decoded greedily and dropped when doubtful.

    With word timestamps faster-whisper starts the next window at the last
    word's end, so nearly every recording ends with a window of a few tenths
    of a second (the VAD's padding), which Whisper already heard in the window
    before (or, after a window that reached the end of the audio, a few
    seconds it heard there). It is encoded as a full 30-second window, Whisper often loops on it
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
    _NO_SPEECH = SimpleNamespace(no_speech_prob=1.0, sequences_ids=[[]], scores=[0.0])  # faster-whisper skips the window

    def encode_noting_length(features):
        if not getattr(state, "active", False):
            return encode(features)
        frames = np.asarray(features)
        frames = frames[0] if frames.ndim == 3 else frames
        filled = np.flatnonzero(np.any(frames != 0, axis=0))
        state.seconds = (int(filled[-1]) + 1 if len(filled) else 0) / _FRAMES_PER_S
        state.windows = getattr(state, "windows", 0) + 1
        heard_to_end = getattr(state, "last_partial", False)  # the window before reached the end of the audio
        state.last_partial = len(filled) > 0 and int(filled[-1]) + 1 < _FULL_WINDOW_FRAMES
        if state.windows > 1 and (state.seconds < TAIL_SKIP_S or (heard_to_end and state.seconds < TAIL_GREEDY_S)):
            return None  # generate_capped answers "no speech" without the model
        return encode(features)

    def generate_capped(encoder_output, prompt, tokenizer, options):
        if not getattr(state, "active", False):
            return generate(encoder_output, prompt, tokenizer, options)
        if encoder_output is None and options.no_speech_threshold is not None:
            return _NO_SPEECH, float("-inf"), 0.0, 0.0
        cap = int(TAIL_TOKENS_BASE + TAIL_TOKENS_PER_S * state.seconds)
        if cap < model.max_length - len(prompt) and (options.max_new_tokens is None or cap < options.max_new_tokens):
            options = replace(options, max_new_tokens=cap)
        short_tail = state.windows > 1 and state.seconds < TAIL_GREEDY_S
        if short_tail:
            options = replace(options, temperatures=list(options.temperatures)[:1])
        found = generate(encoder_output if encoder_output is not None else encode_full(), prompt, tokenizer, options)
        if short_tail and options.log_prob_threshold is not None and found[1] < options.log_prob_threshold:
            # A doubtful reading of a few seconds Whisper has mostly heard already is dropped, not sampled
            # again (sampling there wrote 我认识你了 after a 2-second 换一首歌). Speech it really
            # skipped is still found by ``missed_speech`` and decoded as a clip of its own.
            return _NO_SPEECH, float("-inf"), found[2], 0.0
        return found

    def encode_full():
        raise RuntimeError("tail window skipped without a no-speech threshold")

    model.encode = encode_noting_length
    model.generate_with_fallback = generate_capped
    model._huifang_tail_state = state
    return state


def single_thread_blas() -> None:
    """Give numpy's BLAS one thread in this process, so that a decode does not depend on where it runs.

    faster-whisper computes the log-mel features with numpy; a threaded BLAS
    sums in another order, and a greedy decode can turn on the last bit: on
    the same machine, the same sample call decoded 您播打的电话 in a thread
    pool and 您不打的电话 on a Dask worker, whose nanny sets
    ``OMP_NUM_THREADS=1``. The workers already share the cores one thread
    each; the features are a small product, so one thread costs nothing.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class Transcriber:
    """Holds one loaded Whisper model, shared by the worker threads of a process."""

    def __init__(self, settings: Settings, model=None, lexicon: Lexicon | None = None) -> None:
        from pipeline.speech.model_store import load_whisper

        self.settings = settings
        self.lexicon = lexicon or load_lexicon()
        single_thread_blas()
        self.model = model if model is not None else load_whisper(settings)
        self._tail = cap_short_windows(self.model) if settings.batch_size == 0 else None
        self._decoder = self.model
        if settings.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            self._decoder = BatchedInferencePipeline(self.model)
        self.guard = SegmentGuard()
        self.prompt = build_prompt(self.lexicon) if settings.prompt == "lexicon" else None
        self._corrector = None
        # Set by a worker that builds the text stages' tables in a thread while the first calls decode
        # (``pipeline.batch``); None: built here on first use.
        self.text_tables: threading.Event | None = None

    def wait_for_text_tables(self) -> None:
        """Block until the text stages' tables are built (at once when nobody is building them in a thread)."""
        if self.text_tables is not None:
            self.text_tables.wait()

    @property
    def corrector(self):
        if self._corrector is None:
            self.wait_for_text_tables()
            self._corrector = corrector_for(self.lexicon)
        return self._corrector

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

    def _decode(self, samples: np.ndarray, channel: str, pauses: list[float], prompted: bool = True) -> tuple[list[Utterance], list[Utterance]]:
        """Utterances kept, and every segment Whisper returned (as bare times, for ``missed_speech``).

        When most segments are nothing but the prompt (Whisper wrote 以下是普通话的句子 over a whole
        channel of one sample call), the channel is decoded again without it.
        """
        opts = self.options()
        if not prompted:
            opts["initial_prompt"] = None
        extra = {"batch_size": self.settings.batch_size} if self.settings.batch_size > 0 else {}
        # CTranslate2 runs up to ``workers`` transcriptions at once on one shared model.
        segments, _info = self._decoder.transcribe(
            samples,
            language=opts["language"],
            beam_size=opts["beam_size"],
            vad_filter=opts["vad_filter"],
            vad_parameters=DECODE_VAD_PARAMETERS or None,
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
            self._tail.active, self._tail.windows, self._tail.last_partial = True, 0, False
        try:
            segments = list(segments)
        finally:
            if self._tail is not None:
                self._tail.active = False
        if prompted and self.prompt and only_the_prompt([to_simplified(s.text) for s in segments], self.prompt):
            return self._decode(samples, channel, pauses, prompted=False)
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
        raw = prompt_word_in_notice(raw, self.prompt)
        if not _HAS_CJK.search(raw):
            return None  # nothing but punctuation, control or stray Latin characters
        if words and len(raw.strip(" ，。,.!?！？…")) <= SHORT_UTTERANCE_CHARS and np.mean([w.probability for w in words]) < MIN_SHORT_CONFIDENCE:
            return None  # a word or two said with little confidence: crosstalk or line noise
        confidence = float(np.mean([w.probability for w in words])) if words else math.exp(min(0.0, avg_logprob))
        if too_fast_to_be_said(raw, round(float(end), 2) - round(float(start), 2), confidence):
            return None
        corrected, corrections = self.corrector.correct(raw)
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
