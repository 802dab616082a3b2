"""Real voices: no prompt copied into a transcript, no phrase looping, on strings, stored decoder output and the real set.

The real set (tests/data/real/README.md) is built by scripts/make_real_set.py
from public recordings; the live tests skip with the reason when it is absent.
Live decodes are checked for properties only, never for exact text.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from pipeline.speech.asr import (
    Transcriber,
    cut_phrase_loops,
    cut_prompt_runs,
    drop_repeated_utterances,
    only_the_prompt,
    prompt_runs,
    words_without_prompt_runs,
)
from pipeline.evaluation.realset import find_real_set, load_clips, unspoken_prompt_runs, unspoken_repeats
from pipeline.speech.transcript import Utterance, Word

from .conftest import TEST_DATA

# The prompt of versions 0.1.0 and 0.2.0, which Whisper copied into transcripts of everyday speech.
OLD_PROMPT = "以下是普通话的银行贷后回访电话录音，内容涉及贷款资金用途、还款、抵押物和经营情况。"


def test_prompt_runs_are_found_whatever_the_punctuation():
    text = "我们周末去露营录音，内容涉及贷款资金用途、还款、抵押物和经营情况。"
    (span,) = prompt_runs(text, OLD_PROMPT)
    assert text[span[0]:span[1]].startswith("录音，内容涉及")
    assert prompt_runs("换一首歌内容涉及贷款资金用途", OLD_PROMPT) == [(4, 14)]
    assert prompt_runs("内容，涉及贷款。资金", OLD_PROMPT)  # punctuation Whisper put between copied characters
    assert prompt_runs("贷款资金用于进货", OLD_PROMPT) == []  # four characters in a row are not a copy
    assert prompt_runs("anything", None) == []


def test_prompt_runs_are_cut():
    assert cut_prompt_runs("换一首歌内容涉及贷款资金用途", OLD_PROMPT) == "换一首歌"
    assert cut_prompt_runs("我们周末去露营录音，内容涉及贷款资金用途、还款、抵押物和经营情况。", OLD_PROMPT) == "我们周末去露营"
    assert cut_prompt_runs("以下是普通话的句子。", "以下是普通话的句子。") == ""
    assert cut_prompt_runs("都用来进货了", "以下是普通话的句子。") == "都用来进货了"


def test_a_decode_that_is_mostly_the_prompt_is_recognised():
    prompt = "以下是普通话的句子。"
    assert only_the_prompt(["以下是普通话的句子。"] * 5 + ["对，我是"] * 4, prompt)
    assert only_the_prompt(["以下是普通话的句子"], prompt)
    assert not only_the_prompt(["以下是普通话的句子。"] + ["对，我是", "都用在上面了"], prompt)
    assert not only_the_prompt(["以下是普通话的句子，工地现在停了"] * 3, prompt)  # something spoken beside it
    assert not only_the_prompt([], prompt) and not only_the_prompt(["以下是普通话的句子"], None)


def test_the_prompt_names_no_fact_and_no_domain_term(lexicon):
    """A copied prompt must not be able to put a bank word in anyone's mouth."""
    assert lexicon.prompt
    assert not [term for term in lexicon.all_terms if term in lexicon.prompt]
    for word in ("贷", "款", "还", "抵押", "经营", "资金", "录音", "银行"):
        assert word not in lexicon.prompt


def test_words_copied_from_the_prompt_go():
    words = [Word(0.0, 0.5, "换", 0.9), Word(0.5, 0.9, "一首歌", 0.9), Word(0.9, 1.2, "内容", 0.3),
             Word(1.2, 1.5, "涉及", 0.3), Word(1.5, 1.8, "贷款", 0.3), Word(1.8, 2.0, "资金", 0.2)]
    kept = words_without_prompt_runs(words, OLD_PROMPT)
    assert "".join(w.text for w in kept) == "换一首歌"
    assert words_without_prompt_runs(words[:2], OLD_PROMPT) == words[:2]


def test_phrase_loops_with_punctuation_between_copies_keep_one():
    assert cut_phrase_loops("请收拾一下，请收拾一下，请收拾一下，请收拾一下，请收拾一下，请收拾一下。") == "请收拾一下。"
    assert cut_phrase_loops("好的，好的，好的，再见") == "好的，再见"
    assert cut_phrase_loops("喂 喂 喂 你好") == "喂 喂 喂 你好"  # one character: a person calling out
    # Doubles and 对对对 are speech (tests/test_asr.py::test_cut_loops).
    for said in ("好的好的", "没有没有，没拿去炒股", "对对对，是我", "是的，是的", "嗯，对对对对"):
        assert cut_phrase_loops(said) == said


def _utt(start: float, text: str) -> Utterance:
    return Utterance(start=start, end=start + 1.0, text=text, raw_text=text)


def test_a_phrase_said_in_three_segments_running_keeps_one():
    loop = [_utt(float(k), "请收拾一下。" if k % 2 else "请收拾一下") for k in range(6)]
    kept = drop_repeated_utterances([_utt(-2.0, "喂你好"), *loop, _utt(7.0, "好的")])
    assert [u.text for u in kept] == ["喂你好", "请收拾一下", "好的"]
    double = [_utt(0.0, "喂？"), _utt(1.0, "喂？"), _utt(2.0, "你好")]
    assert drop_repeated_utterances(double) == double
    yes = [_utt(float(k), "对。") for k in range(3)]
    assert drop_repeated_utterances(yes) == yes  # one character said three times is a person agreeing


def test_property_checks_know_what_was_spoken():
    assert unspoken_prompt_runs("换一首歌内容涉及贷款资金用途", OLD_PROMPT, "换一首歌") == ["内容涉及贷款资金用途"]
    assert unspoken_prompt_runs("银行贷后回访电话录音", OLD_PROMPT, "您好，银行贷后回访电话录音") == []
    assert unspoken_repeats("请收拾一下请收拾一下，请收拾一下", "") == ["请收拾一下请收拾一下请收拾一下"]
    assert unspoken_repeats("谢谢谢谢谢谢", "谢谢谢谢谢谢") == []
    assert unspoken_repeats("好的好的", "") == []


class _StoredModel:
    """Stands in for WhisperModel: returns segments recorded from a real decode."""

    def __init__(self, segments: list[dict]) -> None:
        self.segments = segments

    def transcribe(self, audio, **_options):
        segments = [SimpleNamespace(**{**s, "words": [SimpleNamespace(**w) for w in s["words"]]}) for s in self.segments]
        return iter(segments), SimpleNamespace(language="zh")


def test_stored_decoder_output_that_copied_the_prompt_is_cut(settings):
    """Segments faster-whisper wrote with the old domain prompt on one second of a real recording.

    tests/data/leaked_segments.json: the telephone version of the first second of
    the music request (换一…) decoded as 0.2.0 did (``python -m bench.prompt_leak --record``):
    "贷款资金用途、还款。", confident enough to pass every other guard.
    """
    import numpy as np

    from pipeline.speech.audio import SAMPLE_RATE

    recorded = json.loads((TEST_DATA / "leaked_segments.json").read_text(encoding="utf-8"))
    assert any(prompt_runs("".join(w["word"] for w in s["words"]), OLD_PROMPT) for s in recorded["segments"])
    transcriber = Transcriber(settings.with_(vad_filter=False), model=_StoredModel(recorded["segments"]))
    transcriber.prompt = OLD_PROMPT
    rng = np.random.default_rng(0)
    samples = (rng.standard_normal(int(recorded["seconds"] * SAMPLE_RATE)) * 0.05).astype(np.float32)
    control = Transcriber(settings.with_(vad_filter=False), model=_StoredModel(recorded["segments"]))
    control.prompt = None  # no prompt known: nothing to cut, so the other guards alone keep the copy
    assert prompt_runs("".join(u.raw_text for u in control.transcribe(samples)), OLD_PROMPT)
    utterances = transcriber.transcribe(samples)
    text = "".join(u.text for u in utterances)
    raw = "".join(u.raw_text for u in utterances)
    assert not prompt_runs(raw, OLD_PROMPT) and not prompt_runs(text, OLD_PROMPT)
    spoken = "".join(w["word"] for s in recorded["segments"] for w in s["words"])
    assert set(raw) - set("，。？！、 ") <= set(spoken)  # only Whisper's own words, fewer of them
    for utt in utterances:
        assert not prompt_runs("".join(w.text for w in utt.words), OLD_PROMPT)


# --- live: the real set ---------------------------------------------------------------------

REAL = find_real_set()
needs_real = pytest.mark.skipif(REAL is None, reason="real set not built (scripts/make_real_set.py; tests/data/real/README.md)")


@needs_real
@pytest.mark.parametrize("version", ["wideband", "telephone"])
def test_real_set_transcripts_copy_no_prompt_and_loop_no_phrase(transcriber, version):
    from pipeline.evaluation.realset import huifang_transcripts

    clips = load_clips(REAL)
    score = huifang_transcripts(REAL / version, transcriber)
    assert set(score.texts) == {c.clip for c in clips}
    assert any(score.texts.values())
    for clip in clips:
        text = score.texts[clip.clip]
        assert not unspoken_prompt_runs(text, transcriber.prompt, clip.transcript), (clip.clip, text)
        assert not unspoken_repeats(text, clip.transcript), (clip.clip, text)
        assert "後" not in text and "們" not in text  # Simplified script


# --- per-call overhead: the tail window ---------------------------------------------------------

def test_the_tail_window_is_skipped_and_short_windows_write_few_tokens():
    from dataclasses import dataclass

    import numpy as np

    from pipeline.speech.asr import cap_short_windows

    @dataclass
    class Options:
        max_new_tokens: int | None = None
        no_speech_threshold: float | None = 0.6
        log_prob_threshold: float | None = -1.0
        temperatures: tuple = (0.0, 0.2, 0.4)

    class Model:
        max_length = 448

        def __init__(self):
            self.calls = []
            self.logprob = -0.1

        def encode(self, features):
            self.calls.append("encode")
            return "encoded"

        def generate_with_fallback(self, encoder_output, prompt, tokenizer, options):
            self.calls.append(("generate", options.max_new_tokens))
            self.temperatures = list(options.temperatures)
            return "result", self.logprob, 0.0, 1.0

    def window(seconds: float) -> np.ndarray:
        features = np.zeros((80, 3000), dtype=np.float32)
        features[:, : int(seconds * 100)] = -0.5
        return features

    model = Model()
    state = cap_short_windows(model)
    assert cap_short_windows(model) is state  # wrapped once
    # Plain decodes on the same model are left alone.
    model.encode(window(0.3))
    assert model.generate_with_fallback("encoded", [1, 2], None, Options())[0] == "result"
    assert model.calls == ["encode", ("generate", None)]
    model.calls.clear()
    state.active, state.windows = True, 0
    model.generate_with_fallback(model.encode(window(0.4)), [1, 2], None, Options())  # a first window is always decoded
    assert model.calls == ["encode", ("generate", 18)]
    model.calls.clear()
    model.generate_with_fallback(model.encode(window(30.0)), [1, 2], None, Options())
    assert model.calls == ["encode", ("generate", None)]  # a full window keeps Whisper's own limit
    model.calls.clear()
    result, avg_logprob, _, _ = model.generate_with_fallback(model.encode(window(0.35)), [1, 2], None, Options())
    assert model.calls == [] and result.no_speech_prob == 1.0 and avg_logprob < -1  # the tail: neither encoded nor decoded
    # After a window that reached the end of the audio (0.35 s of 30), a short one is what Whisper heard there: skipped.
    result, _, _, _ = model.generate_with_fallback(model.encode(window(2.0)), [1, 2], None, Options())
    assert model.calls == [] and result.no_speech_prob == 1.0
    # ... while a longer one is speech it stopped short of: decoded.
    assert model.generate_with_fallback(model.encode(window(5.0)), [1, 2], None, Options())[0] == "result"
    model.calls.clear()
    model.generate_with_fallback(model.encode(window(30.0)), [1, 2], None, Options())
    model.calls.clear()
    # After a full window, a short one is new audio: decoded, greedily and with few tokens.
    assert model.generate_with_fallback(model.encode(window(2.0)), [1, 2], None, Options())[0] == "result"
    assert model.calls == ["encode", ("generate", 50)]
    assert model.temperatures == [0.0]  # a short tail is decoded greedily: no sampling fallback
    model.logprob = -1.3  # and a doubtful one is no speech (Whisper heard most of it in the window before)
    model.generate_with_fallback(model.encode(window(30.0)), [1, 2], None, Options())
    result, avg_logprob, _, _ = model.generate_with_fallback(model.encode(window(2.0)), [1, 2], None, Options())
    assert result.no_speech_prob == 1.0 and avg_logprob < -1
    model.calls.clear()
    assert model.generate_with_fallback(model.encode(window(5.0)), [1, 2], None, Options())[0] == "result"
    assert model.temperatures == [0.0, 0.2, 0.4]  # a longer later window keeps the fallback and its reading
