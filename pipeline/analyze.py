"""One call from audio to contract summary: the pipeline itself, one stage call per line.

    stage      in -> out                                       entry point
    speech     recording -> attributed utterances              pipeline.speech.transcribe_call
    text       utterances -> corrected utterances              pipeline.text.correct_call
    facts      corrected utterances -> outcome and five facts  pipeline.facts.extract_facts
    judgement  facts -> flags, levels, compliance, actions     pipeline.judgement.judge
    outputs    all of the above -> the contract summary        pipeline.outputs.call_summary

``analyze_transcript`` runs every stage after speech on a stored transcript
(no audio); ``analyze_call`` puts the speech stage in front of it. No stage's
work is done here: each lives in its package.
"""
from __future__ import annotations

import time

from pipeline import __version__
from pipeline.errors import HuifangError
from pipeline.facts import extract_facts
from pipeline.facts.lexicon import Lexicon, load_lexicon
from pipeline.facts.outcome import outcome_lost_with_audio
from pipeline.judgement import judge
from pipeline.judgement.risk import proper_use
from pipeline.manifest import CallSpec
from pipeline.outputs import call_summary, failed_summary
from pipeline.outputs.contract_summary import unmasked_transcript
from pipeline.speech import transcribe_call
from pipeline.speech.transcript import Utterance
from pipeline.text import correct_call

__all__ = ["analyze_call", "analyze_call_keeping_raw", "analyze_transcript", "failed_summary", "transcribe_call"]


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
    utterances = correct_call(utterances, manifest, lexicon)
    facts = extract_facts(utterances, lexicon, classifiers, manifest.get("borrower_name", ""), proper_use(manifest.get("loan_purpose")))
    judgement = judge(utterances, facts, manifest)
    return call_summary(utterances, manifest, facts, judgement, call_id=call_id, duration_s=duration_s)


def analyze_call(call: CallSpec, transcriber, classifiers=None) -> dict:
    """Audio to contract summary for one call; a bad recording becomes a ``failed`` summary."""
    return analyze_call_keeping_raw(call, transcriber, classifiers)[0]


def analyze_call_keeping_raw(call: CallSpec, transcriber, classifiers=None) -> tuple[dict, list[dict] | None]:
    """``analyze_call`` plus the unmasked transcript (None when the call failed).

    The unmasked text exists only here, before ``analyze_transcript`` masks it;
    it is returned apart from the summary so it cannot slip into any output.
    """
    started = time.perf_counter()
    try:
        utterances, duration, details = transcribe_call(call, transcriber, classifiers)
        wait = getattr(transcriber, "wait_for_text_tables", None)
        if wait is not None:  # a worker may still be building the text stages' tables (pipeline.batch)
            wait()
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
    summary["analysis"] = analysis_record(transcriber, details, time.perf_counter() - started)
    return summary, None if undetermined else unmasked_transcript(utterances)


def analysis_record(transcriber, details: dict, elapsed_s: float) -> dict:
    """How the call was analysed (version, model, decoding options, channels), for audits and reruns."""
    settings = transcriber.settings
    return {
        "pipeline_version": __version__,
        "model": settings.model,
        "device": settings.device,
        "compute_type": settings.compute_type,
        "decode_options": {k: v for k, v in transcriber.options().items() if k != "initial_prompt"},
        "elapsed_s": round(elapsed_s, 2),
        **details,
    }
