"""Learning from reviews: reviewer-corrected utterances join the training data, and the new models
are installed only when they are not worse on the frozen evaluation set.

A fact correction that points at an utterance is a labelled example: the
utterance (with the agent's question before it as context) says the corrected
value. Those rows are added, ``REVIEW_WEIGHT`` times each, to the generated
training data; the classifiers are fitted into a temporary folder and both model
sets are scored on the evaluation calls (``evaluate_transcripts``); the new
ones replace the installed ones only when the mean fact accuracy did not drop.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.labels import FACTS
from pipeline.review.store import decisions

REVIEW_WEIGHT = 3  # copies of each reviewed utterance: a few real corrections against thousands of generated rows
HELDOUT_FILE = "heldout.jsonl"


def reviewed_utterances(conn) -> list[dict]:
    """Training rows from the latest fact correction per (night, call, fact) that points at an utterance."""
    latest: dict[tuple[str, str, str], object] = {}
    for d in decisions(conn, kinds=("fact",)):
        latest[(d.night, d.call_id, d.target)] = d
    by_utterance: dict[tuple[str, str, object], dict] = {}
    for (night, call_id, fact), d in latest.items():
        ev = d.evidence or {}
        if not ev.get("text") or d.after not in _values(fact):
            continue
        key = (night, call_id, ev.get("start"))
        row = by_utterance.setdefault(key, {
            "id": f"r{d.id:06d}", "orig_id": f"r{d.id:06d}", "speaker": ev.get("speaker") or "customer",
            "context": ev.get("context") or "", "text": ev["text"], "labels": {f: "not_mentioned" for f in FACTS},
            "augmented": False, "source": "review"})
        row["labels"][fact] = d.after
    return list(by_utterance.values())


def _values(fact: str) -> tuple[str, ...]:
    from pipeline.labels import FACT_VALUES

    return FACT_VALUES.get(fact, ())


def write_training_data(base: Path, reviewed: list[dict], out: Path) -> Path:
    """``base`` plus each reviewed row REVIEW_WEIGHT times (copies share orig_id, so CV keeps them together)."""
    lines = Path(base).read_text(encoding="utf-8").rstrip("\n").split("\n")
    for row in reviewed:
        for k in range(REVIEW_WEIGHT):
            copy = dict(row, id=row["id"] if k == 0 else f"{row['id']}~w{k}", augmented=k > 0)
            lines.append(json.dumps(copy, ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    heldout = Path(base).with_name(HELDOUT_FILE)
    if heldout.is_file():  # train_all scores the final models on it when it lies beside the data
        shutil.copyfile(heldout, out.with_name(HELDOUT_FILE))
    return out


# --- the frozen evaluation set ------------------------------------------------------------


def load_eval_calls(folder: Path) -> list[dict]:
    """Evaluation calls as ``huifang eval --transcripts`` reads them (``<folder>/calls/*.json``)."""
    from pipeline.evaluation.evaluate import load_transcript_calls

    return load_transcript_calls(Path(folder))


def analyse_eval_call(call: dict, classifiers, lexicon) -> dict:
    """The machine's summary of one evaluation call's turns (every text stage, no audio)."""
    from pipeline.evaluation.evaluate import analyze_transcript_calls

    return analyze_transcript_calls([call], lexicon=lexicon, classifiers=classifiers)[str(call["call_id"])]


def evaluate_transcripts(calls: list[dict], model_dir: Path) -> dict:
    """Fact accuracy per fact and flag precision/recall of the models in ``model_dir`` on evaluation calls,
    scored by ``huifang eval --transcripts``'s own scoring."""
    from threadpoolctl import threadpool_limits

    from pipeline.facts.classify import load_classifiers
    from pipeline.evaluation.evaluate import analyze_transcript_calls
    from pipeline.evaluation.evaluate import evaluate_transcripts as score
    from pipeline.facts.lexicon import load_lexicon

    with threadpool_limits(limits=1):
        summaries = analyze_transcript_calls(calls, lexicon=load_lexicon(), classifiers=load_classifiers(Path(model_dir)))
    scores = score(calls, summaries)
    accuracy = {fact: value for fact, value in scores["fact_accuracy"].items() if value is not None}
    return {
        "calls": len(calls),
        "fact_accuracy": accuracy,
        "fact_accuracy_mean": round(sum(accuracy.values()) / max(1, len(accuracy)), 4),
        "flag_precision": scores["flag_precision"],
        "flag_recall": scores["flag_recall"],
    }


@dataclass
class RetrainResult:
    reviewed_rows: int
    before: dict
    after: dict
    installed: bool
    candidate_dir: Path

    def format(self) -> str:
        lines = [f"reviewed utterances added: {self.reviewed_rows} (x{REVIEW_WEIGHT})",
                 f"evaluation calls: {self.before['calls']}",
                 f"{'':30}{'before':>8}{'after':>8}"]
        for fact in FACTS:
            if fact in self.before["fact_accuracy"]:
                lines.append(f"{fact + ' accuracy':30}{self.before['fact_accuracy'][fact]:>8.3f}{self.after['fact_accuracy'][fact]:>8.3f}")
        lines.append(f"{'mean fact accuracy':30}{self.before['fact_accuracy_mean']:>8.3f}{self.after['fact_accuracy_mean']:>8.3f}")
        for key in ("flag_precision", "flag_recall"):
            b, a = self.before.get(key), self.after.get(key)
            if b is not None and a is not None:
                lines.append(f"{key.replace('_', ' '):30}{b:>8.3f}{a:>8.3f}")
        lines.append("new models installed" if self.installed else "new models NOT installed (worse on the evaluation set); kept in " + str(self.candidate_dir))
        return "\n".join(lines)


def not_worse(before: dict, after: dict) -> bool:
    """The installation rule: mean fact accuracy and flag recall did not drop."""
    if after["fact_accuracy_mean"] < before["fact_accuracy_mean"]:
        return False
    b, a = before.get("flag_recall"), after.get("flag_recall")
    return b is None or a is None or a >= b


def retrain_with_reviews(conn, *, base_data: Path, eval_calls: list[dict], model_dir: Path, work_dir: Path | None = None,
                         reviews_out: Path | None = None, seed: int = 0) -> RetrainResult:
    """Fit on base data + reviewed utterances, score before/after on ``eval_calls``, install when not worse.

    ``reviews_out`` (e.g. data/training/reviews.jsonl) keeps the reviewed rows used,
    beside the generated data, when the new models are installed.
    """
    from pipeline.facts.training import train_all

    reviewed = reviewed_utterances(conn)
    if not reviewed:
        raise ValueError("no reviewer correction points at an utterance yet: nothing to learn from")
    work = Path(work_dir or tempfile.mkdtemp(prefix="huifang-retrain-"))
    data = write_training_data(Path(base_data), reviewed, work / "data" / Path(base_data).name)
    candidate = work / "models"
    train_all(data, candidate, seed=seed, cv_folds=0)
    before = evaluate_transcripts(eval_calls, Path(model_dir))
    after = evaluate_transcripts(eval_calls, candidate)
    installed = not_worse(before, after)
    if installed:
        Path(model_dir).mkdir(parents=True, exist_ok=True)
        for path in sorted(candidate.iterdir()):  # metadata last: loading checks the models against it
            if path.name != "metadata.json":
                shutil.copyfile(path, Path(model_dir) / path.name)
        shutil.copyfile(candidate / "metadata.json", Path(model_dir) / "metadata.json")
        if reviews_out is not None:
            Path(reviews_out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reviewed), encoding="utf-8")
    return RetrainResult(len(reviewed), before, after, installed, candidate)
