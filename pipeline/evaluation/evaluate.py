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

from pipeline.labels import CONDUCT_FLAGS, CREDIT_FLAGS, FACTS
from pipeline.facts.lexicon import Lexicon, load_lexicon
from pipeline.text.normalize import normalise_numbers, to_simplified
from pipeline.outputs.privacy import mask_pii
from pipeline.judgement.risk import conduct_level, conduct_level_of, risk_level

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
    from pipeline.manifest import read_manifest
    from pipeline.speech.model_store import load_whisper

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


# --- text stages on given transcripts (huifang eval --transcripts) -----------------------

# Synthetic timing for turns that come without times: about four characters a second.
_SECONDS_PER_CHAR = 0.25
_TURN_GAP_S = 0.4


def load_transcript_calls(directory: Path) -> list[dict]:
    """``DIR/calls/*.json`` (or ``DIR/*.json``), each with call_id, manifest, turns and truth; sorted by call_id.

    A file that cannot be read or lacks a field fails with its name and the problem.
    """
    directory = Path(directory)
    folder = directory / "calls" if (directory / "calls").is_dir() else directory
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise ValueError(f"{folder}: no call files (*.json)")
    calls = []
    for path in paths:
        try:
            call = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read call ({exc})") from exc
        missing = [key for key in ("call_id", "turns", "truth") if key not in call]
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)}")
        call["_path"] = str(path)
        calls.append(call)
    return sorted(calls, key=lambda c: str(c["call_id"]))


def utterances_from_turns(turns: list[dict]):
    """Perfect words and speakers: one utterance per turn, timed synthetically when the turn has no times."""
    from pipeline.text.normalize import normalise_for_extraction
    from pipeline.speech.transcript import Utterance

    utterances, clock = [], 0.0
    for turn in turns:
        text = str(turn.get("text", ""))
        speaker = turn.get("speaker", "unknown")
        if speaker not in ("agent", "customer", "system", "unknown"):
            speaker = "customer"  # a third party on the borrower's line speaks from the customer's side
        start = float(turn.get("start", clock))
        end = float(turn.get("end", start + max(1.0, _SECONDS_PER_CHAR * len(text))))
        utterances.append(Utterance(start=start, end=end, text=text, speaker=speaker, raw_text=text,
                                    norm_text=normalise_for_extraction(text), confidence=1.0, speaker_confidence=1.0))
        clock = end + _TURN_GAP_S
    return utterances


def analyze_transcript_calls(calls: list[dict], lexicon: Lexicon | None = None, classifiers=None) -> dict[str, dict]:
    """The text stages on each call's turns (with the shipped classifiers unless given); a call that raises fails alone."""
    from pipeline.analyze import analyze_transcript, failed_summary
    from pipeline.batch import load_classifiers_if_present

    lexicon = lexicon or load_lexicon()
    classifiers = classifiers if classifiers is not None else load_classifiers_if_present()
    summaries = {}
    for call in calls:
        call_id = str(call["call_id"])
        manifest = {k: v for k, v in (call.get("manifest") or {}).items() if v is not None}
        try:
            utterances = utterances_from_turns(call["turns"])
            duration = utterances[-1].end if utterances else 0.0
            summaries[call_id] = analyze_transcript(utterances, manifest, call_id=call_id, duration_s=duration,
                                                    lexicon=lexicon, classifiers=classifiers)
        except Exception as exc:  # noqa: BLE001 - one broken call never stops the evaluation
            summaries[call_id] = failed_summary(call_id, manifest, f"{call.get('_path', call_id)}: {type(exc).__name__}: {exc}")
    return summaries


def summary_levels(summary: dict) -> tuple[str | None, str | None]:
    """(risk_level, conduct_level) of a summary; derived from its flags by the contract's rules when it predates v2."""
    if summary.get("status") != "analyzed":
        return None, None
    if "conduct_level" in summary:
        return summary.get("risk_level"), summary.get("conduct_level")
    return risk_level(summary.get("flags") or []), conduct_level_of(summary)


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate_transcripts(calls: list[dict], summaries: dict[str, dict]) -> dict:
    """Scores of the text stages against each call's truth.

    Facts, call outcome, fund use vs contract, credit-flag recall and
    precision, flag precision and recall overall and per code, risk and
    conduct level, agent compliance, and how well ``needs_review`` marks the
    wrong facts (catch rate) without marking the right ones.
    """
    fact_ok = {fact: 0 for fact in FACTS}
    counts = {"outcome": 0, "risk": 0, "conduct": 0, "contract": [0, 0], "recording": [0, 0], "identity": [0, 0]}
    credit = {"tp": 0, "fp": 0, "fn": 0}
    every = {"tp": 0, "fp": 0, "fn": 0}
    per_code: dict[str, dict[str, int]] = {}
    review = {"wrong": 0, "wrong_marked": 0, "right": 0, "right_marked": 0}
    per_call = {}
    for call in calls:
        call_id = str(call["call_id"])
        truth = call["truth"]
        summary = summaries.get(call_id) or {"status": "missing", "facts": {}, "flags": []}
        facts = summary.get("facts") or {}
        got = {f: (facts.get(f) or {}).get("value") for f in FACTS}
        want = truth.get("facts", {})
        wrong = {}
        for fact in FACTS:
            ok = got[fact] == want.get(fact)
            fact_ok[fact] += ok
            if not ok:
                wrong[fact] = [got[fact], want.get(fact)]
            if fact in facts:
                marked = bool(facts[fact].get("needs_review"))
                review["right" if ok else "wrong"] += 1
                review["right_marked" if ok else "wrong_marked"] += marked
        counts["outcome"] += summary.get("call_outcome") == truth.get("call_outcome")
        want_contract = truth.get("fund_use_matches_contract")
        if want_contract is not None or (facts.get("fund_use") or {}).get("matches_contract") is not None:
            counts["contract"][1] += 1
            counts["contract"][0] += (facts.get("fund_use") or {}).get("matches_contract") == want_contract
        risk, conduct = summary_levels(summary)
        counts["risk"] += risk == truth.get("risk_level")
        counts["conduct"] += conduct == truth.get("conduct_level", "none")
        compliance = summary.get("agent_compliance") or {}
        for key, name in (("recording_disclosed", "recording"), ("identity_verified", "identity")):
            if (truth.get("agent_compliance") or {}).get(key) is not None:  # null: not connected, nothing to judge
                counts[name][1] += 1
                counts[name][0] += compliance.get(key) == truth["agent_compliance"][key]
        got_flags = {f["code"] for f in summary.get("flags") or []}
        want_flags = set(truth.get("flags") or {})
        for code in got_flags | want_flags:
            entry = per_code.setdefault(code, {"tp": 0, "fp": 0, "fn": 0})
            kind = "tp" if code in got_flags and code in want_flags else "fp" if code in got_flags else "fn"
            entry[kind] += 1
            every[kind] += 1
            if code not in CONDUCT_FLAGS:
                credit[kind] += 1
        per_call[call_id] = {
            "status": summary.get("status"),
            "call_outcome": [summary.get("call_outcome"), truth.get("call_outcome")],
            "risk_level": [risk, truth.get("risk_level")],
            "conduct_level": [conduct, truth.get("conduct_level", "none")],
            "facts_wrong": wrong,
            "needs_review": sorted(f for f in FACTS if (facts.get(f) or {}).get("needs_review")),
            "flags_missed": sorted(want_flags - got_flags),
            "flags_extra": sorted(got_flags - want_flags),
        }
    n = len(calls)
    return {
        "mode": "transcripts",
        "n_calls": n,
        "call_outcome_accuracy": _share(counts["outcome"], n),
        "fact_accuracy": {fact: _share(count, n) for fact, count in fact_ok.items()},
        "fund_use_matches_contract_accuracy": _share(*counts["contract"]),
        "credit_flag_recall": _share(credit["tp"], credit["tp"] + credit["fn"]),
        "credit_flag_precision": _share(credit["tp"], credit["tp"] + credit["fp"]),
        "flag_precision": _share(every["tp"], every["tp"] + every["fp"]),
        "flag_recall": _share(every["tp"], every["tp"] + every["fn"]),
        "per_flag": {code: {"recall": _share(c["tp"], c["tp"] + c["fn"]), "precision": _share(c["tp"], c["tp"] + c["fp"]), **c}
                     for code, c in sorted(per_code.items())},
        "risk_level_accuracy": _share(counts["risk"], n),
        "conduct_level_accuracy": _share(counts["conduct"], n),
        "recording_disclosed_accuracy": _share(*counts["recording"]),
        "identity_verified_accuracy": _share(*counts["identity"]),
        "needs_review": {
            "wrong_facts": review["wrong"],
            "wrong_marked": _share(review["wrong_marked"], review["wrong"]),
            "right_facts": review["right"],
            "right_marked": _share(review["right_marked"], review["right"]),
        },
        "per_call": per_call,
    }


def format_transcript_table(scores: dict) -> str:
    """The --transcripts scores as an aligned two-column table."""
    review = scores["needs_review"]
    rows = [
        ("calls (text stages, given transcripts)", scores["n_calls"]),
        ("call outcome accuracy", scores["call_outcome_accuracy"]),
        *((f"fact accuracy: {fact}", value) for fact, value in scores["fact_accuracy"].items()),
        ("fund use matches contract", scores["fund_use_matches_contract_accuracy"]),
        ("credit-flag recall", scores["credit_flag_recall"]),
        ("credit-flag precision", scores["credit_flag_precision"]),
        ("flag precision (all)", scores["flag_precision"]),
        ("flag recall (all)", scores["flag_recall"]),
        *((f"  {code} recall / precision", f"{c['recall']} / {c['precision']}") for code, c in scores["per_flag"].items()),
        ("risk level accuracy", scores["risk_level_accuracy"]),
        ("conduct level accuracy", scores["conduct_level_accuracy"]),
        ("recording disclosed accuracy", scores["recording_disclosed_accuracy"]),
        ("identity verified accuracy", scores["identity_verified_accuracy"]),
        (f"needs_review on wrong facts ({review['wrong_facts']})", review["wrong_marked"]),
        (f"needs_review on right facts ({review['right_facts']})", review["right_marked"]),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
