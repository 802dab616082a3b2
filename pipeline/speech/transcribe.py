"""One call's recording to attributed utterances: the speech stage's entry point.

Decoding, the channel layout (two channels, dual mono, mono), Whisper per
channel and speaker attribution meet here, so ``analyze`` makes one call for
the whole stage.
"""
from __future__ import annotations

import itertools

import numpy as np

from pipeline.manifest import CallSpec
from pipeline.speech.audio import DecodedAudio, audio_truncation, is_dual_mono, is_silent, iter_windows, probe
from pipeline.speech.speakers import attribute_mono, attribute_two_channel, merge_turns
from pipeline.speech.transcript import Utterance, shift_utterances
from pipeline.speech.vad import pause_points
from pipeline.speech.voice import utterance_voice


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
