"""Fitting, scoring and saving the fact classifiers (``train_all``); loading them is ``classify``.

Why a module of its own: the pipeline loads the models on every run, but fits
them only when the training data changes (``huifang train``, the reviewers'
retraining). The pipeline built here uses ``classify.analyse`` and
``classify.DocFreqFilter``, so the saved models name those types under
``pipeline.facts.classify`` (the paths in ``classify.TRUSTED_TYPES``) whether
training runs from here, from a flow, or as ``python -m pipeline.facts.training``.

Nothing here imports Prefect: flows/training.py wraps ``train_all``.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.facts.classify import (CONTEXT_NGRAMS, HELDOUT_FILE, LOGREG_C, METADATA_FILE, MIN_DF, N_FEATURES,
                                     PIPELINE_VERSION, SPEAKER, TARGET_VALUES, TARGETS, TEXT_NGRAMS, TRUSTED_TYPES,
                                     DocFreqFilter, analyse, default_model_dir, load_classifiers, make_input,
                                     sha256_file)
from pipeline.labels import FACT_VALUES, FACTS


def build_pipeline(seed: int = 0) -> Any:
    """An untrained pipeline for one fact: hash n-grams, drop rare ones, TF-IDF, logistic regression.

    Hashing instead of TfidfVectorizer's fitted vocabulary: skops stores a
    vocabulary dict entry by entry (tens of thousands of tiny files, seconds
    to load), while this pipeline holds only numpy arrays, loaded in milliseconds.
    No length normalisation: evidence for a fact in one clause of a long,
    multi-topic turn is not diluted by the other clauses, and in grouped
    cross-validation the probabilities came out far better calibrated
    (expected calibration error < 0.02 against 0.06-0.12 with l2), so no
    CalibratedClassifierCV is needed.
    """
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    hasher = HashingVectorizer(analyzer=analyse, n_features=N_FEATURES, alternate_sign=False, norm=None,
                               dtype=np.float64)
    clf = LogisticRegression(C=LOGREG_C, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("hash", hasher), ("min_df", DocFreqFilter(MIN_DF)),
                     ("tfidf", TfidfTransformer(sublinear_tf=True, norm=None)), ("logreg", clf)])


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------
@dataclass
class Dataset:
    """Training rows as the classifiers see them."""

    inputs: list[str]
    labels: dict[str, list[str]]
    groups: list[str]
    sources: list[str]
    augmented: list[bool] = field(default_factory=list)
    bare_inputs: list[str] = field(default_factory=list)  # the utterance without its question

    only: list[str] = field(default_factory=list)  # "" or the one target a row is for

    def inputs_for(self, target: str) -> list[str]:
        """The speaker model must not see the question: only borrower rows have one."""
        return self.bare_inputs if target == SPEAKER else self.inputs

    def for_target(self, target: str) -> "Dataset":
        """The rows ``target`` is trained on: all but those marked for another target only."""
        if not any(self.only):
            return self
        keep = [i for i, o in enumerate(self.only) if not o or o == target]
        pick = lambda values: [values[i] for i in keep] if values else []  # noqa: E731
        return Dataset(pick(self.inputs), {t: pick(v) for t, v in self.labels.items()}, pick(self.groups), pick(self.sources),
                       pick(self.augmented), pick(self.bare_inputs), pick(self.only))


def load_dataset(path: Path) -> Dataset:
    """Read utterances.jsonl; augmented copies share the group of their original."""
    inputs: list[str] = []
    labels: dict[str, list[str]] = {target: [] for target in TARGETS}
    bare_inputs: list[str] = []
    groups: list[str] = []
    sources: list[str] = []
    augmented: list[bool] = []
    only: list[str] = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            inputs.append(make_input(row.get("context", ""), row["text"]))
            bare_inputs.append(make_input("", row["text"]))
            for fact in FACTS:
                labels[fact].append(row["labels"][fact])
            labels[SPEAKER].append(row.get("speaker", "customer"))
            groups.append(row.get("orig_id") or str(row["id"]).split("~")[0])
            sources.append(str(row.get("source", "")))
            augmented.append(bool(row.get("augmented", False)))
            only.append(str(row.get("only", "")))
    return Dataset(inputs, labels, groups, sources, augmented, bare_inputs, only)


def _check_labels(data: Dataset) -> None:
    """Every value of every fact must be present and nothing else: predictions cover the whole label set."""
    for fact in FACTS:
        seen = set(data.labels[fact])
        if seen != set(FACT_VALUES[fact]):
            raise ValueError(f"{fact}: missing {set(FACT_VALUES[fact]) - seen}, unknown {seen - set(FACT_VALUES[fact])}")


def cross_validate(data: Dataset, fact: str, *, seed: int, folds: int) -> list[float]:
    """Macro-F1 per fold, folds grouped by original so no augmented copy leaks across."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.array(data.labels[fact])
    x = np.array(data.inputs_for(fact), dtype=object)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = []
    for train_idx, test_idx in splitter.split(x, y, groups=data.groups):
        model = build_pipeline(seed).fit(list(x[train_idx]), y[train_idx])
        pred = model.predict(list(x[test_idx]))
        scores.append(float(f1_score(y[test_idx], pred, average="macro", labels=list(TARGET_VALUES[fact]),
                                     zero_division=0)))
    return scores


def handwritten_holdout(data: Dataset, fact: str, *, seed: int) -> float | None:
    """Macro-F1 on the hand-written originals of a model trained without any hand-written row.

    Template folds share sentence skeletons, so this is the more honest
    estimate of how the model does on language it has not seen.
    """
    from sklearn.metrics import f1_score

    hand = {g for g, s in zip(data.groups, data.sources) if s == "handwritten"}
    test = [i for i, s in enumerate(data.sources) if s == "handwritten"]
    train = [i for i, g in enumerate(data.groups) if g not in hand]
    if not test:
        return None
    y = data.labels[fact]
    x = data.inputs_for(fact)
    if len({y[i] for i in train}) < 2:
        return None  # nothing to learn from without the hand-written rows
    model = build_pipeline(seed).fit([x[i] for i in train], [y[i] for i in train])
    pred = model.predict([x[i] for i in test])
    present = sorted({y[i] for i in test})
    return float(f1_score([y[i] for i in test], pred, average="macro", labels=present, zero_division=0))


def _versions() -> dict[str, str]:
    import scipy
    import skops
    import sklearn

    return {"sklearn": sklearn.__version__, "skops": skops.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


def _save_model(model: Any, path: Path) -> None:
    """Dump with skops and make sure loading will not need a type outside TRUSTED_TYPES."""
    import zipfile

    import skops.io as sio

    sio.dump(model, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    extra = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if extra:
        path.unlink()
        raise RuntimeError(f"{path.name} would need untrusted types {extra}; add them to TRUSTED_TYPES if safe")


def train_all(data_path: Path, out_dir: Path, *, seed: int = 0, cv_folds: int = 5) -> dict[str, Any]:
    """Cross-validate, fit on all data and save one skops model per fact plus metadata.json.

    Scores recorded per fact: grouped cross-validated macro-F1; macro-F1 on
    the hand-written rows of a model fitted without them; and, when
    ``heldout.jsonl`` lies beside ``data_path``, macro-F1 of the final model
    on it. ``cv_folds`` < 2 skips the first two, for quick fits in tests.
    Returns the metadata that was written.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS/OpenMP thread: these fits are small and sparse, and on a busy
    # 2-core machine spinning BLAS threads made them ~50x slower.
    with threadpool_limits(limits=1):
        return _train_all(Path(data_path), Path(out_dir), seed=seed, cv_folds=cv_folds)


def _train_all(data_path: Path, out_dir: Path, *, seed: int, cv_folds: int) -> dict[str, Any]:
    data = load_dataset(data_path)
    _check_labels(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    facts_meta: dict[str, Any] = {}
    fitted: dict[str, Any] = {}
    heldout_path = data_path.with_name(HELDOUT_FILE)
    heldout = load_dataset(heldout_path) if heldout_path.is_file() else None
    for fact in TARGETS:
        facts_meta[fact] = _train_fact(data, fact, out_dir, seed=seed, cv_folds=cv_folds, heldout=heldout, fitted=fitted)
    meta = {
        "pipeline_version": PIPELINE_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_data": {"path": data_path.name, "sha256": sha256_file(data_path), "n_rows": len(data.inputs),
                          "n_originals": len(set(data.groups))},
        "heldout_data": None if heldout is None else {
            "path": heldout_path.name, "sha256": sha256_file(heldout_path), "n_rows": len(heldout.inputs)},
        "seed": seed,
        "cv_folds": cv_folds,
        "input_format": "normalise(context) + U+241E + normalise(text); see pipeline.facts.classify.make_input",
        "hyperparameters": {"text_ngrams": list(TEXT_NGRAMS), "context_ngrams": list(CONTEXT_NGRAMS),
                            "hash_features": N_FEATURES, "min_df": MIN_DF, "C": LOGREG_C,
                            "class_weight": "balanced", "tfidf_norm": None,
                            "calibration": "none (unnormalised tf-idf + LR was well calibrated in CV)"},
        "versions": _versions(),
        "trusted_types": list(TRUSTED_TYPES),
        "trusted_types_note": "passed to skops.io.load(trusted=...) in addition to skops' default allow-list "
                              "(scikit-learn estimators, numpy, builtins); never trusted=True",
        "facts": facts_meta,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    meta["arrays"] = _export(fitted, out_dir, facts_meta)
    (out_dir / METADATA_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return meta


def _macro_f1(model: Any, data: Dataset, fact: str) -> float:
    """Macro-F1 over the values present in ``data`` (a small hold-out lacks some)."""
    from sklearn.metrics import f1_score

    y = data.labels[fact]
    return float(f1_score(y, model.predict(data.inputs_for(fact)), average="macro", labels=sorted(set(y)), zero_division=0))


def _export(models: dict[str, Any], out_dir: Path, facts_meta: dict[str, Any]) -> dict[str, Any]:
    """Write the models' parameters as arrays (``linear.EXPORT_FILE``) and describe them for metadata."""
    from pipeline.facts.linear import EXPORT_FILE, EXPORT_FORMAT, export_arrays

    path = out_dir / EXPORT_FILE
    export_arrays(models, path)
    return {"file": EXPORT_FILE, "sha256": sha256_file(path), "bytes": path.stat().st_size, "format": EXPORT_FORMAT,
            "from": {fact: facts_meta[fact]["sha256"] for fact in models},
            "note": "the skops models' hashed columns, idf and weights as numpy arrays (np.load without pickle); "
                    "run time reads these and needs no scikit-learn (pipeline.facts.linear)"}


def export_directory(model_dir: Path) -> dict[str, Any]:
    """Add (or renew) the array export of an existing model directory, without retraining.

    Loads the skops models (trusted types only), writes ``linear.npz`` and
    records it in ``metadata.json``; returns the new metadata.
    """
    model_dir = Path(model_dir)
    loaded = load_classifiers(model_dir, arrays=False)
    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    meta["arrays"] = _export(loaded.models, model_dir, meta["facts"])
    (model_dir / METADATA_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return meta


def _train_fact(data: Dataset, fact: str, out_dir: Path, *, seed: int, cv_folds: int,
                heldout: Dataset | None = None, fitted: dict[str, Any] | None = None) -> dict[str, Any]:
    """CV scores, final fit and file for one fact (the fitted model also goes into ``fitted``)."""
    data = data.for_target(fact)
    y = data.labels[fact]
    info: dict[str, Any] = {"classes": list(TARGET_VALUES[fact]),
                            "n_per_class": {v: y.count(v) for v in TARGET_VALUES[fact]}}
    if cv_folds >= 2:
        scores = cross_validate(data, fact, seed=seed, folds=cv_folds)
        info["cv_macro_f1"] = round(float(np.mean(scores)), 4)
        info["cv_macro_f1_std"] = round(float(np.std(scores)), 4)
        holdout = handwritten_holdout(data, fact, seed=seed)
        info["handwritten_holdout_macro_f1"] = None if holdout is None else round(holdout, 4)
    model = build_pipeline(seed).fit(data.inputs_for(fact), y)
    if heldout is not None:
        info["heldout_macro_f1"] = round(_macro_f1(model, heldout, fact), 4)
    path = out_dir / f"{fact}.skops"
    _save_model(model, path)
    if fitted is not None:
        fitted[fact] = model
    info.update(file=path.name, sha256=sha256_file(path), bytes=path.stat().st_size,
                n_features=int(len(model.named_steps["min_df"].columns_)))
    return info


def main(argv: list[str] | None = None) -> int:
    """Train without Prefect: python -m pipeline.facts.training [utterances.jsonl] [out_dir]; prints the scores.

    ``--export-arrays [model_dir]`` only writes the array export of existing models.
    """
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--export-arrays"]:
        directory = Path(args[1]) if len(args) > 1 else default_model_dir()
        arrays = export_directory(directory)["arrays"]
        print(f"{directory / arrays['file']}: {arrays['bytes'] / 1024:.0f} KiB, sha256 {arrays['sha256']}")
        return 0
    root = Path(__file__).resolve().parents[2]
    data_arg = Path(args[0]) if args else root / "data" / "training" / "utterances.jsonl"
    out_arg = Path(args[1]) if len(args) > 1 else default_model_dir()
    result = train_all(data_arg, out_arg)
    print(f"{'fact':20s} {'cv macro-F1':>16s} {'hand-written':>12s} {'held-out':>9s} {'KiB':>6s}")
    for name, info in result["facts"].items():
        print(f"{name:20s} {info.get('cv_macro_f1')!s:>8s} ± {info.get('cv_macro_f1_std')!s:<6s}"
              f" {info.get('handwritten_holdout_macro_f1')!s:>12s} {info.get('heldout_macro_f1')!s:>9s}"
              f" {info['bytes'] / 1024:6.0f}")
    print(f"trained in {result['train_seconds']} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

