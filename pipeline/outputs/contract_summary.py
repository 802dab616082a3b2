"""One call's stages as the contract's summary (v2): the outputs stage's entry point for a call.

Everything that leaves the pipeline is masked here (``privacy.mask_pii``):
evidence, the transcript, the manifest, summary_zh. The unmasked transcript
exists only through ``unmasked_transcript``, for the restricted file.
"""
from __future__ import annotations

from pipeline.facts.call_facts import CallFacts
from pipeline.facts.extract import Match
from pipeline.judgement.call_judgement import Judgement
from pipeline.labels import FACTS, SCHEMA_VERSION
from pipeline.outputs.privacy import mask_pii
from pipeline.outputs.summary import write_summary
from pipeline.speech.transcript import Utterance

# Evidence items a fact or flag shows at most.
MAX_EVIDENCE = 3


def call_summary(utterances: list[Utterance], manifest: dict, facts: CallFacts, judgement: Judgement, *, call_id: str, duration_s: float) -> dict:
    """The contract summary of an analysed call (without the ``analysis`` record and without I/O)."""
    summary = {
        "schema_version": SCHEMA_VERSION,
        "call_id": call_id,
        "loan_id": manifest.get("loan_id") or None,
        "status": "analyzed",
        "error": None,
        "call_outcome": facts.outcome.value,
        "duration_s": round(float(duration_s), 2),
        "transcript": transcript_items(utterances, facts.matches),
        "facts": fact_items(utterances, facts, judgement.matches_contract),
        "flags": [
            {"code": f.code, "severity": f.severity, "reason": f.reason, "evidence": evidence_items(utterances, f.evidence)}
            for f in judgement.flags
        ],
        "risk_level": judgement.risk_level,
        "conduct_level": judgement.conduct_level,
        "actions": judgement.actions,
        "agent_compliance": judgement.compliance.to_json(),
        "summary_zh": "",
        "carrier_message": facts.outcome.carrier_message,
        "manifest": masked_manifest(manifest),
    }
    summary["summary_zh"] = mask_pii(write_summary(summary, {}))
    return summary


def fact_items(utterances: list[Utterance], facts: CallFacts, matches_contract: bool | None) -> dict[str, dict]:
    """The five facts as the contract states them; fund_use carries ``matches_contract`` right after its value."""
    items: dict[str, dict] = {}
    for fact, decision in facts.decisions.items():
        item: dict = {"value": decision.value}
        if fact == "fund_use":
            item["matches_contract"] = matches_contract
        item.update(
            confidence=decision.confidence,
            needs_review=decision.needs_review,
            review_reasons=decision.review_reasons,
            evidence=evidence_items(utterances, decision.evidence, decision.matches),
            method=decision.method,
        )
        items[fact] = item
    return items


def evidence_items(utterances: list[Utterance], indexes: list[int], matches: list[Match] | None = None) -> list[dict]:
    """The first utterances a decision rests on, masked, each with the rule that matched it when one did."""
    rule_of: dict[int, str] = {}
    for m in matches or []:
        rule_of.setdefault(m.utterance, m.rule_id)
    items = []
    for i in indexes[:MAX_EVIDENCE]:
        u = utterances[i]
        item = {"start": round(u.start, 2), "end": round(u.end, 2), "speaker": u.speaker, "text": mask_pii(u.text)}
        if i in rule_of:
            item["rule_id"] = rule_of[i]
        items.append(item)
    return items


def transcript_items(utterances: list[Utterance], matches: list[Match]) -> list[dict]:
    """The masked transcript, each utterance with the rule terms found in it (for the report's highlighting)."""
    terms_by_utt: dict[int, list[dict]] = {}
    for m in matches:
        if m.source == "rule":
            terms_by_utt.setdefault(m.utterance, []).append(m.term())
    transcript = []
    for i, utt in enumerate(utterances):
        item = utt.to_json()
        for key in ("text", "raw_text", "norm_text"):
            item[key] = mask_pii(item[key])
        item["terms"] = sorted(terms_by_utt.get(i, []), key=lambda t: t["start"])
        transcript.append({"start": item.pop("start"), "end": item.pop("end"), "speaker": item.pop("speaker"), "text": item.pop("text"), **item})
    return transcript


def masked_manifest(manifest: dict) -> dict:
    return {k: mask_pii(str(v)) for k, v in manifest.items()}


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
        "manifest": masked_manifest(manifest),
    }


def unmasked_transcript(utterances: list[Utterance]) -> list[dict]:
    """The transcript before masking, for the restricted file only (``--keep-raw-transcript``)."""
    keep = ("start", "end", "speaker", "text", "raw_text")
    return [{k: v for k, v in utt.to_json().items() if k in keep} for utt in utterances]
