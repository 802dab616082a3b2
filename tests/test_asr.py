"""Transcription on small real clips (tests/data/README.md says what each clip says)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from pipeline.analyze import analyze_transcript, transcribe_call
from pipeline.speech.asr import cut_loops
from pipeline.speech.audio import SAMPLE_RATE, decode, is_silent
from pipeline.errors import AudioError
from pipeline.evaluation.evaluate import cer_text, edit_distance
from pipeline.manifest import CallSpec

from .conftest import TEST_DATA


def spec(name: str, agent_channel: str = "") -> CallSpec:
    return CallSpec(call_id="t", audio_path=name, row={"agent_channel": agent_channel}, line=0, batch_dir=TEST_DATA)


def cer(ref: str, hyp: str) -> float:
    ref, hyp = cer_text(ref), cer_text(hyp)
    return edit_distance(ref, hyp) / len(ref)


def test_agent_greeting_is_transcribed_in_simplified_chinese(transcriber):
    utterances, duration, _ = transcribe_call(spec("agent_greeting.wav"), transcriber)
    text = "".join(u.text for u in utterances)
    assert 4.5 < duration < 5.5
    # Properties that hold on any CPU and library version, not an exact decode: near the
    # words said (a loose bound), a domain term, Simplified script, the speaker, sane times.
    assert cer("您好，这里是东江农商银行贷后回访，本次通话将被录音。", text) <= 0.4
    assert "贷后" in text or "录音" in text
    assert "後" not in text and "錄" not in text and "銀" not in text  # never Traditional
    assert all(u.speaker == "agent" for u in utterances)
    first = utterances[0]
    assert 0.0 <= first.start < 1.5 and first.words and first.words[0].start <= first.words[-1].end <= duration + 0.5


def test_two_channel_speakers_and_times(transcriber):
    utterances, _, details = transcribe_call(spec("two_channel_short.wav"), transcriber)
    assert details["channels"] == 2 and details["agent_channel"] == "left"
    agent = [u for u in utterances if u.speaker == "agent"]
    customer = [u for u in utterances if u.speaker == "customer"]
    assert agent and customer
    assert agent[0].start < customer[0].start  # merged by time
    assert customer[0].start >= 2.0 and agent[0].end <= 2.5
    assert cer("都用来进货，还有发工资。", "".join(u.text for u in customer)) <= 0.5  # near the words; exact words vary by CPU


def test_two_channel_agent_detected_without_manifest(transcriber):
    _, _, details = transcribe_call(spec("two_channel_short.wav", agent_channel=""), transcriber)
    assert details["agent_channel_source"] == "detected" and details["agent_channel"] == "left"


def test_carrier_message_call_is_not_connected(transcriber):
    utterances, duration, _ = transcribe_call(spec("carrier_poweroff.wav"), transcriber)
    assert utterances and all(u.speaker == "system" for u in utterances)
    summary = analyze_transcript(utterances, {}, call_id="t", duration_s=duration)
    assert summary["call_outcome"] == "not_connected"
    assert summary["carrier_message"] == "对方已关机"


@pytest.mark.parametrize("clip", ["silence.wav", "noise.wav"])
def test_no_speech_yields_no_text(transcriber, clip):
    utterances, duration, _ = transcribe_call(spec(clip), transcriber)
    assert utterances == []
    assert analyze_transcript(utterances, {}, call_id="t", duration_s=duration)["call_outcome"] == "not_connected"


def test_silence_detector():
    assert is_silent(decode(TEST_DATA / "silence.wav").channels[0])
    assert not is_silent(decode(TEST_DATA / "agent_greeting.wav").channels[0])


def test_loop_on_noise_is_cut(transcriber):
    """Real audio: the greeting followed by 20 s of noise, where Whisper tends to loop or invent text."""
    speech = decode(TEST_DATA / "agent_greeting.wav").channels[0]
    noise = decode(TEST_DATA / "noise.wav").channels[0]
    samples = np.concatenate([speech] + [noise] * 7).astype(np.float32)
    utterances = transcriber.transcribe(samples)
    text = "".join(u.text for u in utterances)
    assert "贷后" in text
    assert all(u.start < len(speech) / SAMPLE_RATE + 1.0 for u in utterances)  # nothing invented over the noise
    assert cut_loops(text) == text


class _Replay:
    """A model that returns segments decoded earlier, so the guards can be run on them (once: a re-decoded clip gets nothing)."""

    def __init__(self, segments) -> None:
        self.segments = segments

    def transcribe(self, *args, **kwargs):
        segments, self.segments = self.segments, []
        return iter(segments), None


class _EndsAWindowEarly:
    """The real model, except that its first decoding loses everything after ``cut`` seconds.

    Whisper does that now and then: it ends a 30-second window early and the
    next window starts after the speech (89 characters of sample call C0012
    vanished so in one run).
    """

    def __init__(self, model, cut: float) -> None:
        self.model, self.cut, self.calls = model, cut, 0

    def __getattr__(self, name):
        # the rest is the real model's: the Transcriber's token cap on short windows (asr.cap_short_windows)
        # acts as in production; without it a loop on the cut clip ran to 448 tokens at four temperatures (40 s)
        return getattr(self.model, name)

    def transcribe(self, samples, **kwargs):
        self.calls += 1
        if self.calls == 1:
            samples = samples[: int(self.cut * SAMPLE_RATE)]
        return self.model.transcribe(samples, **kwargs)


def test_speech_whisper_skipped_is_decoded_again(transcriber):
    from pipeline.speech.asr import Transcriber

    greeting = decode(TEST_DATA / "agent_greeting.wav").channels[0]
    answer = decode(TEST_DATA / "two_channel_short.wav").channels[1]  # 都用来进货，还有发工资。 at 2.48-4.73 s
    samples = np.concatenate([greeting, answer]).astype(np.float32)
    offset = len(greeting) / SAMPLE_RATE
    model = _EndsAWindowEarly(transcriber.model, cut=offset + 1.0)
    utterances = Transcriber(transcriber.settings, model=model, lexicon=transcriber.lexicon).transcribe(samples)
    assert model.calls == 2  # the greeting was heard, the answer decoded again
    text = "".join(u.text for u in utterances)
    assert text.count("贷后") <= 1  # the greeting is not decoded twice
    # The answer is heard again at its time in the call, not the clip's. Its exact words depend on
    # the CPU's kernels (with CT2_FORCE_CPU_ISA=AVX: 都用来认识，还有发公司), so only near the words said.
    answer_utterance = next(u for u in utterances if u.start > offset + 1.0)
    assert cer("都用来进货，还有发工资。", answer_utterance.text) <= 0.5
    assert offset + 2.0 < answer_utterance.start < offset + 3.0
    assert answer_utterance.words and all(offset + 2.0 < w.start < offset + 5.0 for w in answer_utterance.words)


def test_missed_speech_regions():
    from pipeline.speech.asr import missed_speech
    from pipeline.speech.transcript import Utterance

    heard = [Utterance(0.5, 3.0, "您好"), Utterance(10.0, 12.0, "好的")]
    regions = [(0.4, 3.1), (4.0, 5.0), (5.5, 7.0), (8.0, 8.6), (10.0, 12.1), (12.5, 13.0)]
    # 4.0-7.0 joined (0.5 s apart), 8.0-8.6 too short alone, 12.5-13.0 too short and never joined across a heard region
    assert missed_speech(regions, heard) == [(4.0, 7.0)]


_LOOP = re.compile(r"(.{1,8}?)\1{5,}")


def test_recorded_looped_hallucination_is_cut(transcriber):
    """The greeting, then 21 s of loud line noise (``agent_greeting.wav`` + ``noise.wav`` × 7).

    Plain faster-whisper with its classic settings (previous text as context,
    temperature 0, no thresholds, no VAD) looped on the noise (您好,您好,…) when
    its output was recorded into ``greeting_then_noise.segments.json`` by
    ``scripts/record_decoder_output.py``, which also reports whether it still
    loops on a given machine: a live decode differs across CPUs and versions,
    so the suite tests the guards on the recording. They must remove the loop
    and keep the greeting.
    """
    from pipeline.speech.asr import Transcriber
    from scripts.record_decoder_output import joined_samples, load_segments

    recording = TEST_DATA / "greeting_then_noise.segments.json"
    clips = [f"{TEST_DATA / name.partition('*')[0]}{'*' + name.partition('*')[2] if '*' in name else ''}"
             for name in json.loads(recording.read_text(encoding="utf-8"))["clips"]]
    samples = joined_samples(clips)
    recorded = load_segments(recording)
    assert any(_LOOP.search(s.text) for s in recorded)  # the recording is of a loop
    guarded = Transcriber(transcriber.settings, model=_Replay(recorded), lexicon=transcriber.lexicon).transcribe(samples)
    text = "".join(u.text for u in guarded)
    assert "贷后回访" in text
    assert not _LOOP.search(text) and text.count("您好") == 1
    assert all(u.start < 6.0 for u in guarded)  # nothing kept over the noise


def test_no_loop_in_a_live_decode_of_speech_then_noise(transcriber):
    """Properties of huifang's own decoding of ``loop_on_noise.wav`` (greeting, 25 s of white noise), on any machine."""
    samples = decode(TEST_DATA / "loop_on_noise.wav").channels[0]
    own = "".join(u.text for u in transcriber.transcribe(samples))
    assert not _LOOP.search(own) and not re.search(r"(.)\1{3,}", own)
    assert "贷后" in own or "录音" in own


SAMPLE_AUDIO = TEST_DATA.parent.parent / "data" / "sample"


def test_misheard_carrier_message_is_still_recognised(transcriber):
    """Sample call C0023: Whisper mishears 您拨打的电话已停机; the call is still not connected.

    Decoded at temperature 0 only: the sampled fallback now and then writes a
    few invented characters over the ring after the message (请问问), which
    would make this test pass or fail by chance.
    """
    from pipeline.speech.asr import Transcriber

    repeatable = Transcriber(transcriber.settings.with_(deterministic=True), model=transcriber.model, lexicon=transcriber.lexicon)
    call = CallSpec(call_id="C0023", audio_path="audio/C0023.wav", row={}, line=0, batch_dir=SAMPLE_AUDIO)
    utterances, duration, _ = transcribe_call(call, repeatable)
    # Whisper base mishears the message here (银波打的电话与停机 on the machine this was written on);
    # how exactly differs by machine, so only the outcome is asserted.
    assert any(u.speaker == "system" for u in utterances), [(u.speaker, u.text) for u in utterances]
    summary = analyze_transcript(utterances, {}, call_id="C0023", duration_s=duration)
    assert summary["call_outcome"] == "not_connected"
    # Which message it names depends on the decode too (银波打的电话与停机 names 停机; 您拨打的电话语评论,
    # heard on another machine, only the carrier's opening): a carrier message is named either way.
    assert summary["carrier_message"]


def test_a_channel_decoded_as_the_prompt_is_decoded_again(transcriber):
    """Sample call C0013: with faster-whisper's VAD defaults, Whisper base wrote the prompt over every
    segment of the borrower's channel (the whole answer lost, the call read as unanswered); that
    channel is decoded again without the prompt. Properties only, never exact text."""
    call = CallSpec(call_id="C0013", audio_path="audio/C0013.wav", row={}, line=0, batch_dir=SAMPLE_AUDIO)
    utterances, _, _ = transcribe_call(call, transcriber)
    customer = [u for u in utterances if u.speaker == "customer"]
    assert len("".join(u.text for u in customer)) >= 40, [(u.speaker, u.text) for u in utterances]
    assert not any("普通话的句子" in u.text for u in utterances)


def test_subtitle_credits_on_a_ring_tone_are_dropped(transcriber):
    """Sample call C0024: over the ring tone plain Whisper writes 作词作曲; no utterance keeps it."""
    call = CallSpec(call_id="C0024", audio_path="audio/C0024.wav", row={}, line=0, batch_dir=SAMPLE_AUDIO)
    utterances, _, _ = transcribe_call(call, transcriber)
    text = "".join(u.text + u.raw_text for u in utterances)
    assert "无法接通" in text
    assert "作词" not in text and "作曲" not in text


def test_text_too_fast_to_be_said():
    from pipeline.speech.asr import too_fast_to_be_said

    assert too_fast_to_be_said("银行贷款资金用途", 0.3, 0.1)  # a prompt echoed over a click
    assert not too_fast_to_be_said("银行贷款资金用途", 0.3, 0.9)  # confident: left to the other guards
    assert not too_fast_to_be_said("这笔钱都用来进货了", 2.0, 0.1)


def test_a_segment_that_is_only_a_loop_goes():
    from pipeline.speech.asr import only_a_loop

    assert only_a_loop("自行自行自行自行自行自")  # cut off inside the last copy
    assert only_a_loop("谢谢观看，谢谢观看，谢谢观看，谢谢观看。")
    assert only_a_loop("啊啊啊啊啊啊啊")
    assert only_a_loop("请问问问问问问问问问问问")  # sample C0023: the ring after the carrier message, at temperature 0
    assert not only_a_loop("嗯，对对对对")
    assert not only_a_loop("好的好的好的好的好的，再见")  # speech around the loop: cut_loops keeps one copy
    assert not only_a_loop("对对对对")  # people say that
    assert not only_a_loop("好的好的")
    assert not only_a_loop("")


def test_cut_loops():
    assert cut_loops("好的好的好的好的好的，再见") == "好的，再见"
    assert cut_loops("谢谢谢谢谢谢谢谢谢谢谢谢") == "谢谢"
    assert cut_loops("没有没有，没拿去炒股") == "没有没有，没拿去炒股"  # a double is speech, not a loop
    assert cut_loops("对对对，是我") == "对对对，是我"


def test_broken_audio_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav.*empty"):
        decode(empty)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio" * 50)
    with pytest.raises(AudioError, match="junk.mp3"):
        decode(junk)


def test_batched_inference_option(settings):
    from pipeline.speech.asr import Transcriber

    batched = Transcriber(settings.with_(batch_size=4))
    utterances, _, _ = transcribe_call(spec("agent_greeting.wav"), batched)
    text = "".join(u.text for u in utterances)
    assert batched.options()["batch_size"] == 4
    assert cer("您好，这里是东江农商银行贷后回访，本次通话将被录音。", text) <= 0.4 and ("贷后" in text or "录音" in text)
