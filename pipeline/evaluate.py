"""Scoring a run against truth labels: CER, domain-term recall, speakers, outcome, facts, flags, risk and conduct.

Credit flags and conduct flags are scored apart (contract v2), as are
risk_level and conduct_level. A v1 run (no conduct_level) is scored with the
conduct level its flags give.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from .labels import CONDUCT_FLAGS, CREDIT_FLAGS, FACTS
from .lexicon import Lexicon, load_lexicon
from .normalize import normalise_numbers, to_simplified
from .privacy import mask_pii
from .risk import conduct_level, conduct_level_of

_NON_TEXT = re.compile(r"[^\w\u4e00-\u9fff*]+")


def cer_text(text: str) -> str:
    """Text as CER compares it: Simplified, PII masked like outputs, numbers as digits, no punctuation or spaces."""
    text = to_simplified(text)
    text = normalise_numbers(re.sub(r"\s+", "", text))
    text = mask_pii(text)
    return _NON_TEXT.sub("", text).lower()


def edit_distance(ref: str, hyp: str) -> int:
    """Character insertions, deletions and substitutions from ``ref`` to ``hyp`` (CER's numerator).

    rapidfuzz's Levenshtein gives the numbers of the textbook dynamic programme
    (tests/test_edit_distance.py) some thousand times faster on whole calls.
    """
    return Levenshtein.distance(ref, hyp)


def _reference_text(truth_call: dict) -> str:
    turns = sorted(truth_call.get("turns", []), key=lambda t: t["start"])
    return "".join(t["text"] for t in turns)


def _hypothesis_text(summary: dict) -> str:
    return "".join(u["text"] for u in summary.get("transcript", []))


def term_counts(text: str, lexicon: Lexicon) -> dict[str, int]:
    return {term: text.count(term) for term in lexicon.all_terms if term in text}


def speaker_chars(truth_call: dict, summary: dict) -> tuple[int, int]:
    """(correct, total) reference characters whose best-overlapping utterance has the right speaker."""
    correct = total = 0
    hyps = summary.get("transcript", [])
    for turn in truth_call.get("turns", []):
        n = len(cer_text(turn["text"]))
        total += n
        best, best_overlap = None, 0.0
        for utt in hyps:
            overlap = min(turn["end"], utt["end"]) - max(turn["start"], utt["start"])
            if overlap > best_overlap:
                best, best_overlap = utt, overlap
        if best is not None and best["speaker"] == turn["speaker"]:
            correct += n
    return correct, total


def evaluate(summaries: dict[str, dict], truth: dict, lexicon: Lexicon | None = None) -> dict:
    """Scores over the calls that have truth; a missing or failed call counts as wrong."""
    lexicon = lexicon or load_lexicon()
    calls = truth["calls"]
    errors = ref_chars = 0
    terms_ref = terms_found = 0
    spk = {"two_channel": [0, 0], "mono": [0, 0]}
    outcome_ok = risk_ok = conduct_ok = 0
    fact_ok = {fact: 0 for fact in FACTS}
    tp = fp = fn = 0
    kind_counts = {"credit": [0, 0, 0], "conduct": [0, 0, 0]}  # tp, fp, fn
    per_call = {}
    for call_id, expected in calls.items():
        summary = summaries.get(call_id) or {"status": "missing", "transcript": [], "facts": {}, "flags": []}
        ref, hyp = cer_text(_reference_text(expected)), cer_text(_hypothesis_text(summary))
        distance = edit_distance(ref, hyp)
        errors += distance
        ref_chars += len(ref)
        ref_terms, hyp_terms = term_counts(ref, lexicon), term_counts(hyp, lexicon)
        terms_ref += sum(ref_terms.values())
        terms_found += sum(min(count, hyp_terms.get(term, 0)) for term, count in ref_terms.items())
        good, total = speaker_chars(expected, summary)
        bucket = spk["two_channel" if expected.get("channels") == 2 else "mono"]
        bucket[0] += good
        bucket[1] += total
        outcome_ok += summary.get("call_outcome") == expected["call_outcome"]
        risk_ok += summary.get("risk_level") == expected["risk_level"]
        got_conduct, want_conduct = conduct_level_of(summary), _truth_conduct(expected)
        conduct_ok += got_conduct == want_conduct
        got_facts = {f: (summary.get("facts", {}).get(f) or {}).get("value") for f in FACTS}
        for fact in FACTS:
            fact_ok[fact] += got_facts[fact] == expected["facts"][fact]
        got_flags = {f["code"] for f in summary.get("flags", [])}
        want_flags = set(expected["flags"])
        tp += len(got_flags & want_flags)
        fp += len(got_flags - want_flags)
        fn += len(want_flags - got_flags)
        for kind, codes in (("credit", set(CREDIT_FLAGS)), ("conduct", set(CONDUCT_FLAGS))):
            got, want = got_flags & codes, want_flags & codes
            counts = kind_counts[kind]
            counts[0] += len(got & want)
            counts[1] += len(got - want)
            counts[2] += len(want - got)
        per_call[call_id] = {
            "status": summary.get("status"),
            "cer": round(distance / max(1, len(ref)), 4),
            "call_outcome": [summary.get("call_outcome"), expected["call_outcome"]],
            "risk_level": [summary.get("risk_level"), expected["risk_level"]],
            "conduct_level": [got_conduct, want_conduct],
            "facts_wrong": {f: [got_facts[f], expected["facts"][f]] for f in FACTS if got_facts[f] != expected["facts"][f]},
            "flags_missed": sorted(want_flags - got_flags),
            "flags_extra": sorted(got_flags - want_flags),
        }
    n = max(1, len(calls))
    all_good = spk["two_channel"][0] + spk["mono"][0]
    all_total = spk["two_channel"][1] + spk["mono"][1]
    return {
        "n_calls": len(calls),
        "cer": round(errors / max(1, ref_chars), 4),
        "domain_term_recall": round(terms_found / max(1, terms_ref), 4),
        "speaker_accuracy": round(all_good / max(1, all_total), 4),
        "speaker_accuracy_two_channel": round(spk["two_channel"][0] / max(1, spk["two_channel"][1]), 4),
        "speaker_accuracy_mono": round(spk["mono"][0] / max(1, spk["mono"][1]), 4),
        "call_outcome_accuracy": round(outcome_ok / n, 4),
        "fact_accuracy": {fact: round(count / n, 4) for fact, count in fact_ok.items()},
        "flag_precision": round(tp / max(1, tp + fp), 4),
        "flag_recall": round(tp / max(1, tp + fn), 4),
        "credit_flag_precision": _ratio(kind_counts["credit"], "precision"),
        "credit_flag_recall": _ratio(kind_counts["credit"], "recall"),
        "conduct_flag_precision": _ratio(kind_counts["conduct"], "precision"),
        "conduct_flag_recall": _ratio(kind_counts["conduct"], "recall"),
        "risk_level_accuracy": round(risk_ok / n, 4),
        "conduct_level_accuracy": round(conduct_ok / n, 4),
        "per_call": per_call,
    }


def _truth_conduct(expected: dict) -> str:
    """The truth's conduct_level (v2), or what its flag severities give (a v1 truth file)."""
    if expected.get("conduct_level"):
        return expected["conduct_level"]
    severity = expected.get("flag_severity") or {}
    return conduct_level([{"code": code, "severity": level} for code, level in severity.items()])


def _ratio(counts: list[int], which: str) -> float:
    tp, fp, fn = counts
    return round(tp / max(1, tp + (fp if which == "precision" else fn)), 4)


def load_truth(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_run(out_dir: Path) -> dict[str, dict]:
    summaries = {}
    for path in sorted((Path(out_dir) / "calls").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        summaries[data["call_id"]] = data
    return summaries


def format_table(scores: dict) -> str:
    rows = [
        ("calls", scores["n_calls"]),
        ("CER", scores["cer"]),
        ("domain-term recall", scores["domain_term_recall"]),
        ("speaker accuracy (all)", scores["speaker_accuracy"]),
        ("  two-channel", scores["speaker_accuracy_two_channel"]),
        ("  mono", scores["speaker_accuracy_mono"]),
        ("call outcome accuracy", scores["call_outcome_accuracy"]),
        *((f"fact accuracy: {fact}", value) for fact, value in scores["fact_accuracy"].items()),
        ("flag precision", scores["flag_precision"]),
        ("flag recall", scores["flag_recall"]),
        ("  credit flags precision", scores["credit_flag_precision"]),
        ("  credit flags recall", scores["credit_flag_recall"]),
        ("  conduct flags precision", scores["conduct_flag_precision"]),
        ("  conduct flags recall", scores["conduct_flag_recall"]),
        ("risk level accuracy", scores["risk_level_accuracy"]),
        ("conduct level accuracy", scores["conduct_level_accuracy"]),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


# --- the baseline: plain faster-whisper on the same calls ---------------------------------

BASELINE_BEAM_SIZE = 5  # faster-whisper's default


def baseline_transcripts(batch_dir: Path, call_ids: list[str], settings, lexicon: Lexicon | None = None) -> tuple[dict[str, str], dict]:
    """Plain faster-whisper, same model, Simplified domain prompt, VAD on, nothing else.

    This is what a team gets without huifang: one ``model.transcribe`` on the
    file (channels mixed down), no per-channel decoding, guards or correction.
    Returns the text per call and the options used.
    """
    from .manifest import read_manifest
    from .model_store import load_whisper

    lexicon = lexicon or load_lexicon()
    options = {"language": "zh", "beam_size": BASELINE_BEAM_SIZE, "vad_filter": True, "initial_prompt": lexicon.prompt}
    model = load_whisper(settings)
    calls, _errors = read_manifest(Path(batch_dir))
    texts: dict[str, str] = {}
    wanted = set(call_ids)
    for call in calls:
        if call.call_id not in wanted:
            continue
        try:
            segments, _info = model.transcribe(str(call.audio_file), **options)
            texts[call.call_id] = "".join(segment.text for segment in segments)
        except Exception:  # noqa: BLE001 - a file the baseline cannot read scores as empty
            texts[call.call_id] = ""
    return texts, {k: v for k, v in options.items() if k != "initial_prompt"} | {"initial_prompt": "lexicon prompt"}


def score_texts(texts: dict[str, str], truth: dict, lexicon: Lexicon | None = None) -> dict:
    """CER and domain-term recall of plain transcripts (no speakers, no analysis)."""
    lexicon = lexicon or load_lexicon()
    errors = ref_chars = terms_ref = terms_found = 0
    for call_id, expected in truth["calls"].items():
        ref, hyp = cer_text(_reference_text(expected)), cer_text(texts.get(call_id, ""))
        errors += edit_distance(ref, hyp)
        ref_chars += len(ref)
        ref_terms, hyp_terms = term_counts(ref, lexicon), term_counts(hyp, lexicon)
        terms_ref += sum(ref_terms.values())
        terms_found += sum(min(count, hyp_terms.get(term, 0)) for term, count in ref_terms.items())
    return {"cer": round(errors / max(1, ref_chars), 4), "domain_term_recall": round(terms_found / max(1, terms_ref), 4)}


def format_side_by_side(scores: dict) -> str:
    """CER and term recall of huifang next to the plain faster-whisper baseline."""
    base = scores["baseline"]
    rows = [("", "huifang", "plain faster-whisper"), ("CER", scores["cer"], base["cer"]), ("domain-term recall", scores["domain_term_recall"], base["domain_term_recall"])]
    return "\n".join(f"{a:<20}{b!s:>10}  {c!s:>20}" for a, b, c in rows)
