"""Per-fact utterance classifiers: character n-gram TF-IDF + logistic regression.

One scikit-learn ``Pipeline`` per fact of the contract (``pipeline.labels.FACTS``)
maps one utterance, read together with the agent question it answers, to a
distribution over that fact's values (``not_mentioned`` included).

Input string (``make_input``): ``normalise(context) + SEP + normalise(text)``.
The analyser (``analyse``) turns it into

* character 1-3-grams of the utterance, padded with ``<`` and ``>`` so that a
  bare "没有" is a different feature from the "没有" inside a sentence;
* character 2-3-grams of the question, prefixed ``q:``, so the question sets
  the topic ("没有" after "有没有延期或者停工" is on_schedule, after an
  identity check it is nothing) without its words counting as the customer's
  (an agent asking "有没有拿去炒股" is not evidence of stock trading);
* a length bucket of the utterance and a flag for "no question", which tell
  the model how much to trust the question;
* for short answers (12 characters or fewer) only, the utterance n-grams
  joined with the question's coarse topic and polarity ("proj-bad|<停了"),
  because a linear model cannot otherwise read "停了" differently after
  "工程停了没有" and after "店还开着吗".

No length normalisation of the tf-idf vector: evidence for a fact in one
clause of a long, multi-topic turn is not diluted by the others, and the
probabilities came out well calibrated in grouped cross-validation.

Callers pass ``make_input(question, utterance)`` strings to
``FactClassifiers.predict``; for agent turns the question is "".

Models are stored with skops (never pickle) and loaded with an explicit list of
trusted types; each file's sha256 and the scikit-learn version are checked
against ``metadata.json`` before anything is deserialised.

Nothing here imports Prefect: flows/training.py wraps ``train_all``.
"""
from __future__ import annotations

import functools
import hashlib
import json
import platform
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.labels import FACT_VALUES, FACTS

# What the classifiers predict: the five facts, and who is speaking (agent or
# borrower) from the words alone, which speaker attribution on mono calls uses.
SPEAKER = "speaker"
TARGET_VALUES: dict[str, tuple[str, ...]] = {**FACT_VALUES, SPEAKER: ("agent", "customer")}
TARGETS: tuple[str, ...] = tuple(TARGET_VALUES)

PIPELINE_VERSION = "1.0"
SEP = "\u241e"  # "␞": cannot come out of normalise(), so the split is unambiguous
METADATA_FILE = "metadata.json"
HELDOUT_FILE = "heldout.jsonl"  # beside the training file; scored, never trained on

# Types a model file may contain beyond skops' own allow-list (scikit-learn
# estimators, numpy arrays and scalars, builtins): our analyser and filter.
# Loading trusts exactly these, never ``trusted=True``; training refuses to
# save a model that would need anything else.
TRUSTED_TYPES: list[str] = [
    "pipeline.facts.classify.DocFreqFilter",
    "pipeline.facts.classify.analyse",
]

# Hyper-parameters, chosen by grouped cross-validation and the hold-out set.
TEXT_NGRAMS = (1, 3)
CONTEXT_NGRAMS = (2, 3)
N_FEATURES = 2**20
MIN_DF = 3
LOGREG_C = 0.5


class ModelLoadError(Exception):
    """A model directory cannot be trusted or read; the message names the file and the problem."""


# ---------------------------------------------------------------------------
# Input and features
# ---------------------------------------------------------------------------
_T2S: Any = None
_PUNCT = re.compile(r"[\s,，、;；:：。.!！…~～\-—\"“”'‘’()（）\[\]【】《》<>|]+")
_QMARK = re.compile(r"[?？]+")


def _t2s(text: str) -> str:
    """Traditional -> simplified, because Whisper sometimes writes Mandarin in traditional characters."""
    global _T2S
    if _T2S is None:
        import opencc  # local: only needed once per process

        _T2S = opencc.OpenCC("t2s")
    return str(_T2S.convert(text))


def normalise(text: str) -> str:
    """One spelling for what ASR writes several ways: width, script, case, punctuation, spaces."""
    text = unicodedata.normalize("NFKC", text or "").replace(SEP, " ")
    text = _t2s(text).lower()
    text = _QMARK.sub("?", text)
    text = _PUNCT.sub(",", text)
    text = re.sub(r",?\?,?", "?", text)
    return text.strip(",")


def make_input(context: str, text: str) -> str:
    """The classifier input for one utterance: the question it answers, SEP, the utterance.

    ``context`` is the agent's preceding question (empty for agent turns and
    when there is none); ``text`` is the utterance itself.
    """
    return f"{normalise(context)}{SEP}{normalise(text)}"


def _ngrams(s: str, lo: int, hi: int) -> Iterable[str]:
    for n in range(lo, hi + 1):
        for i in range(len(s) - n + 1):
            yield s[i:i + n]


def _length_bucket(text: str) -> str:
    n = len(re.sub(r"[,?]", "", text))
    for limit, name in ((2, "xs"), (4, "s"), (8, "m"), (16, "l")):
        if n <= limit:
            return name
    return "xl"


# Coarse topic and polarity of the agent's question, for short answers whose
# meaning depends on it ("停了" after a project question vs a business one;
# "没有" after "有没有延期" vs "有没有按计划").
_TOPICS = {
    "fund": re.compile("用途|用在|用于|用到|花在|花哪|资金|钱|挪|炒股|买房|借给|转借|理财|消费"),
    "repay": re.compile("还款|还贷|还得上|按时还|逾期|扣款|月供|压力"),
    "coll": re.compile("抵押|房子|房产|铺|门面|厂房|出租|租出|过户|卖|查封|名下"),
    "proj": re.compile("项目|工程|工地|施工|工期|完工|停工|进度|交付|延期|封顶"),
    "biz": re.compile("生意|经营|订单|效益|营业|店|厂里|开工|停产|营收"),
}
_BAD_Q = re.compile("有没有|是否有|会不会|延期|停工|停了|出租|租出|卖|抵押|查封|压力|困难|吃力|挪|炒股|买房|借给|减少|停产|耽误|损坏|变化")
_GOOD_Q = re.compile("按计划|按期|正常|按时|稳定|自己在用|名下|还在|还开着|吧\\?|对吧|是吧")
_SHORT_ANSWER = 12


def _question_keys(context: str) -> list[str]:
    """Topic-polarity keys of a question, e.g. ["proj-bad"]; empty when no topic is recognised."""
    topics = [name for name, pattern in _TOPICS.items() if pattern.search(context)]
    if _GOOD_Q.search(context):
        polarity = "good"
    elif _BAD_Q.search(context):
        polarity = "bad"
    else:
        polarity = "open"
    return [f"{t}-{polarity}" for t in topics]


def analyse(doc: str) -> list[str]:
    """Features of one ``make_input`` string.

    Utterance n-grams, ``q:`` question n-grams, a length bucket, a no-question
    flag and, for short answers only, utterance n-grams joined with the
    question's topic and polarity so a linear model can read "停了" differently
    after "工程停了没有" and after "店还开着吗".
    """
    context, sep, text = doc.partition(SEP)
    if not sep:  # a bare utterance, not built by make_input
        context, text = "", normalise(context)
    padded = f"<{text}>"
    grams = [g for g in _ngrams(padded, *TEXT_NGRAMS) if g not in ("<", ">")]
    feats = list(grams)
    feats += ["q:" + g for g in _ngrams(context, *CONTEXT_NGRAMS)]
    feats.append("len:" + _length_bucket(text))
    if not context:
        feats.append("q:none")
    elif len(text) <= _SHORT_ANSWER:
        for key in _question_keys(context):
            feats.append(f"k:{key}")
            feats += [f"{key}|{g}" for g in grams]
    return feats


class DocFreqFilter(TransformerMixin, BaseEstimator):
    """Keep the hashed columns seen in at least ``min_df`` training documents.

    Why: logistic regression's fit time grows with the number of columns, and
    most hashed n-grams occur once. Storing the kept column numbers (one int
    array) instead of a vocabulary dict keeps the skops file fast to load.
    """

    def __init__(self, min_df: int = 2) -> None:
        self.min_df = min_df

    def fit(self, X: Any, y: Any = None) -> "DocFreqFilter":
        X = X.tocsc() if not hasattr(X, "indptr") or X.format != "csc" else X
        doc_freq = np.diff(X.indptr)
        self.columns_ = np.flatnonzero(doc_freq >= self.min_df).astype(np.int64)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> Any:
        """Keep the fitted columns by remapping the few non-zeros (slicing 2^20 columns is slow)."""
        import scipy.sparse as sp

        lookup = getattr(self, "_lookup", None)
        if lookup is None or len(lookup) != self.n_features_in_:
            lookup = np.full(self.n_features_in_, -1, dtype=np.int64)
            lookup[self.columns_] = np.arange(len(self.columns_))
            self._lookup = lookup  # derived from columns_ on first use; never saved
        X = X.tocsr()
        new_columns = lookup[X.indices]
        keep = new_columns >= 0
        row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))[keep]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=X.shape[0]))])
        return sp.csr_matrix((X.data[keep], new_columns[keep], indptr), shape=(X.shape[0], len(self.columns_)))


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

    def inputs_for(self, target: str) -> list[str]:
        """The speaker model must not see the question: only borrower rows have one."""
        return self.bare_inputs if target == SPEAKER else self.inputs


def load_dataset(path: Path) -> Dataset:
    """Read utterances.jsonl; augmented copies share the group of their original."""
    inputs: list[str] = []
    labels: dict[str, list[str]] = {target: [] for target in TARGETS}
    bare_inputs: list[str] = []
    groups: list[str] = []
    sources: list[str] = []
    augmented: list[bool] = []
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
    return Dataset(inputs, labels, groups, sources, augmented, bare_inputs)


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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    heldout_path = data_path.with_name(HELDOUT_FILE)
    heldout = load_dataset(heldout_path) if heldout_path.is_file() else None
    for fact in TARGETS:
        facts_meta[fact] = _train_fact(data, fact, out_dir, seed=seed, cv_folds=cv_folds, heldout=heldout)
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
    (out_dir / METADATA_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return meta


def _macro_f1(model: Any, data: Dataset, fact: str) -> float:
    """Macro-F1 over the values present in ``data`` (a small hold-out lacks some)."""
    from sklearn.metrics import f1_score

    y = data.labels[fact]
    return float(f1_score(y, model.predict(data.inputs_for(fact)), average="macro", labels=sorted(set(y)), zero_division=0))


def _train_fact(data: Dataset, fact: str, out_dir: Path, *, seed: int, cv_folds: int,
                heldout: Dataset | None = None) -> dict[str, Any]:
    """CV scores, final fit and file for one fact."""
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
    info.update(file=path.name, sha256=sha256_file(path), bytes=path.stat().st_size,
                n_features=int(len(model.named_steps["min_df"].columns_)))
    return info


# ---------------------------------------------------------------------------
# Loading and prediction
# ---------------------------------------------------------------------------
Prediction = tuple[str, float, dict[str, float]]


@dataclass
class FactClassifiers:
    """The loaded models of one directory, one per fact."""

    models: dict[str, Any]
    metadata: dict[str, Any]
    model_dir: Path

    def predict(self, fact: str, inputs: list[str]) -> list[Prediction]:
        """For each ``make_input`` string: (best value, its probability, the full distribution)."""
        if fact not in self.models:
            raise KeyError(f"no model for fact {fact!r}; known: {sorted(self.models)}")
        if not inputs:
            return []
        return self._predictions(self.models[fact], self.models[fact].predict_proba(list(inputs)))

    def predict_many(self, facts: list[str], inputs: list[str]) -> dict[str, list[Prediction]]:
        """Several facts on the same inputs, hashing the n-grams once (every model shares the hasher)."""
        if not inputs:
            return {fact: [] for fact in facts}
        hashed = self.models[facts[0]].named_steps["hash"].transform(list(inputs))
        return {fact: self._predictions(self.models[fact], _proba_after_hashing(self.models[fact], hashed)) for fact in facts}

    @staticmethod
    def _predictions(model: Any, proba: Any) -> list[Prediction]:
        classes = [str(c) for c in model.classes_]
        out: list[Prediction] = []
        for row in proba:
            dist = {c: float(p) for c, p in zip(classes, row)}
            best = int(np.argmax(row))
            out.append((classes[best], float(row[best]), dist))
        return out


def _proba_after_hashing(model: Any, hashed: Any) -> Any:
    """The pipeline's steps after the hasher, called directly: slicing a Pipeline per call
    (model[1:]) rebuilds and re-validates it, a third of the text stages' classifier time."""
    features = hashed
    for _name, step in model.steps[1:-1]:
        features = step.transform(features)
    return model.steps[-1][1].predict_proba(features)


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _read_metadata(model_dir: Path) -> dict[str, Any]:
    path = model_dir / METADATA_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path}: metadata file missing; refusing to load models without it")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["versions"]["sklearn"]
        meta["facts"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path}: unreadable or incomplete metadata ({exc})") from exc
    return meta


def _check_version(meta: dict[str, Any], model_dir: Path) -> None:
    import sklearn

    recorded = str(meta["versions"]["sklearn"])
    if _major_minor(recorded) != _major_minor(sklearn.__version__):
        raise ModelLoadError(
            f"{model_dir / METADATA_FILE}: models were trained with scikit-learn {recorded}, "
            f"this is {sklearn.__version__}; retrain (flows/training.py) instead of loading across versions")


def _load_one(model_dir: Path, fact: str, info: dict[str, Any]) -> Any:
    """Verify the file's sha256, then deserialise it trusting only TRUSTED_TYPES."""
    import skops.io as sio

    path = model_dir / str(info.get("file", f"{fact}.skops"))
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file missing")
    expected = info.get("sha256")
    if not expected:
        raise ModelLoadError(f"{path}: no sha256 recorded in metadata")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelLoadError(f"{path}: sha256 {actual} differs from the recorded {expected}; file changed")
    try:
        unexpected = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    except Exception as exc:  # noqa: BLE001 - a corrupt archive fails here first
        raise ModelLoadError(f"{path}: not a readable skops file ({type(exc).__name__}: {exc})") from exc
    if unexpected:
        raise ModelLoadError(f"{path}: contains types outside the trusted list: {unexpected}")
    try:
        model = sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # noqa: BLE001 - skops raises several types; all mean "cannot trust/read"
        raise ModelLoadError(f"{path}: cannot load ({type(exc).__name__}: {exc})") from exc
    if [str(c) for c in model.classes_] != sorted(TARGET_VALUES[fact]):
        raise ModelLoadError(f"{path}: classes {list(model.classes_)} differ from the contract's {fact} values")
    return model


@functools.lru_cache(maxsize=8)
def _load_cached(model_dir: str, stamp: tuple[int, ...]) -> FactClassifiers:
    """Load once per directory and metadata version (stamp changes when metadata is rewritten)."""
    path = Path(model_dir)
    meta = _read_metadata(path)
    _check_version(meta, path)
    missing = [f for f in TARGETS if f not in meta["facts"]]
    if missing:
        raise ModelLoadError(f"{path / METADATA_FILE}: no model recorded for {missing}")
    models = {fact: _load_one(path, fact, meta["facts"][fact]) for fact in TARGETS}
    hashers = {repr(sorted(m.named_steps["hash"].get_params().items(), key=str)) for m in models.values()}
    if len(hashers) != 1:
        raise ModelLoadError(f"{path}: the models do not share one n-gram hasher; retrain them together")
    return FactClassifiers(models=models, metadata=meta, model_dir=path)


def load_classifiers(model_dir: Path) -> FactClassifiers:
    """Load (cached) and verify the five fact models of ``model_dir``; raises ModelLoadError if untrusted."""
    path = Path(model_dir).resolve()
    meta_path = path / METADATA_FILE
    if not meta_path.is_file():
        raise ModelLoadError(f"{meta_path}: metadata file missing; refusing to load models without it")
    st = meta_path.stat()
    files = sorted(path.glob("*.skops"))
    stamp = (st.st_mtime_ns, st.st_size, *(f.stat().st_mtime_ns for f in files))
    return _load_cached(str(path), stamp)


def default_model_dir() -> Path:
    """models/classifiers/ of this checkout."""
    return Path(__file__).resolve().parents[2] / "models" / "classifiers"


def main(argv: list[str] | None = None) -> int:
    """Train without Prefect: python -m pipeline.facts.classify [utterances.jsonl] [out_dir]; prints the scores."""
    args = sys.argv[1:] if argv is None else argv
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
    # Re-import so the analyser and DocFreqFilter are saved as pipeline.facts.classify.*, not __main__.*
    from pipeline.facts import classify as _module

    raise SystemExit(_module.main())
