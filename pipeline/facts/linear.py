"""The fact classifiers at run time as plain arrays, without scikit-learn.

Why: the shipped models are a hashed n-gram count, a column filter, sublinear
tf-idf and a logistic regression: a few arrays and one hash function. Loading
them through skops imported scikit-learn and skops (about 2.3 s of every
worker's start, a third of a short night: issue 17) to rebuild objects whose
arithmetic fits on a page. Training still fits and saves the skops models (the
record of what was trained); ``export_arrays`` writes the same parameters to
``linear.npz`` beside them, and ``metadata.json`` records that file's sha256
and the sha256 of every skops model it was taken from. ``classify.load_classifiers``
loads the arrays when they match, the skops models otherwise.

``np.load(allow_pickle=False)``: the file can hold numbers and strings only,
so loading it runs no code at all.

The features are ``classify.analyse``'s, hashed as scikit-learn's
``HashingVectorizer(alternate_sign=False, norm=None)`` hashes them
(MurmurHash3, x86, 32 bit, seed 0, on the UTF-8 bytes; column = |h| mod
n_features); ``tests/test_classify.py`` compares both the hash and the
probabilities with scikit-learn's.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

EXPORT_FILE = "linear.npz"
EXPORT_FORMAT = 1

Prediction = tuple[str, float, dict[str, float]]

_MASK = 0xFFFFFFFF


def murmurhash3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86_32 as a signed int, the hash scikit-learn's hashing vectorizer uses."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _MASK
    end = len(data) - len(data) % 4
    for i in range(0, end, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        h ^= (k * c2) & _MASK
        h = ((h << 13) | (h >> 19)) & _MASK
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[end:]
    if tail:
        k = 0
        for shift, byte in enumerate(tail):
            k |= byte << (8 * shift)
        k = (k * c1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        h ^= (k * c2) & _MASK
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def hashed_column(feature: str, n_features: int) -> int:
    """The column ``HashingVectorizer`` gives a feature."""
    h = murmurhash3_32(feature.encode("utf-8"))
    if h == -(1 << 31):  # |INT_MIN| overflows in C; scikit-learn defines it so
        return (2147483647 - (n_features - 1)) % n_features
    return abs(h) % n_features


# feature -> column, per n_features: the same n-grams recur in every call of a night.
_COLUMN_CACHE: dict[int, dict[str, int]] = {}
_COLUMN_CACHE_LIMIT = 1 << 20


def _columns(features: list[str], n_features: int) -> list[int]:
    cache = _COLUMN_CACHE.setdefault(n_features, {})
    if len(cache) > _COLUMN_CACHE_LIMIT:
        cache.clear()
    get = cache.get
    out = []
    for feature in features:
        column = get(feature)
        if column is None:
            column = cache[feature] = hashed_column(feature, n_features)
        out.append(column)
    return out


@dataclass(frozen=True)
class HashedInputs:
    """A batch of inputs as (row, column, count) triples, one per distinct column of a row."""

    n_rows: int
    rows: np.ndarray
    columns: np.ndarray
    counts: np.ndarray


def hash_inputs(inputs: list[str], analyser: Callable[[str], list[str]], n_features: int) -> HashedInputs:
    """Count each input's hashed features (the hashing vectorizer's output, as triples)."""
    rows: list[int] = []
    columns: list[int] = []
    counts: list[int] = []
    for row, doc in enumerate(inputs):
        counted = Counter(_columns(analyser(doc), n_features))
        rows.extend([row] * len(counted))
        columns.extend(counted.keys())
        counts.extend(counted.values())
    return HashedInputs(len(inputs), np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64),
                        np.asarray(counts, dtype=np.float64))


@dataclass(frozen=True)
class LinearModel:
    """One fact's kept columns, their idf and the logistic regression's weights (classes sorted)."""

    classes: tuple[str, ...]
    columns: np.ndarray  # sorted hashed columns kept at training (seen in >= min_df documents)
    idf: np.ndarray  # per kept column
    coef: np.ndarray  # (kept columns, classes)
    intercept: np.ndarray  # (classes,)
    lookup: np.ndarray  # hashed column -> its row in coef, or -1 (derived from columns when read)

    def predict_proba(self, hashed: HashedInputs) -> np.ndarray:
        """Sublinear tf (1 + log count) x idf, linear scores, softmax: ``Pipeline.predict_proba``'s formulas."""
        position = self.lookup[hashed.columns]
        kept = position >= 0
        position, rows = position[kept], hashed.rows[kept]
        weights = (np.log(hashed.counts[kept]) + 1.0) * self.idf[position]
        scores = np.zeros((hashed.n_rows, len(self.classes)))
        np.add.at(scores, rows, weights[:, None] * self.coef[position])
        scores += self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)


@dataclass
class LinearClassifiers:
    """The arrays of one model directory: ``classify.FactClassifiers``' interface without scikit-learn."""

    models: dict[str, LinearModel]
    metadata: dict[str, Any]
    model_dir: Path
    n_features: int
    analyser: Callable[[str], list[str]]

    def predict(self, fact: str, inputs: list[str]) -> list[Prediction]:
        """For each ``make_input`` string: (best value, its probability, the full distribution)."""
        return self.predict_many([fact], inputs)[fact]

    def predict_many(self, facts: list[str], inputs: list[str]) -> dict[str, list[Prediction]]:
        """Several facts on the same inputs, hashing the n-grams once."""
        unknown = [fact for fact in facts if fact not in self.models]
        if unknown:
            raise KeyError(f"no model for fact {unknown[0]!r}; known: {sorted(self.models)}")
        if not inputs:
            return {fact: [] for fact in facts}
        hashed = hash_inputs(list(inputs), self.analyser, self.n_features)
        out: dict[str, list[Prediction]] = {}
        for fact in facts:
            model = self.models[fact]
            predictions: list[Prediction] = []
            for row in model.predict_proba(hashed):
                best = int(np.argmax(row))
                predictions.append((model.classes[best], float(row[best]),
                                    {c: float(p) for c, p in zip(model.classes, row)}))
            out[fact] = predictions
        return out


def export_arrays(models: dict[str, Any], path: Path) -> None:
    """Write each fitted skops-shaped pipeline's parameters to ``path`` (npz, no objects).

    Expects the shipped shape: ``hash`` (HashingVectorizer, no alternate sign,
    no norm), ``min_df`` (DocFreqFilter), ``tfidf`` (sublinear, no norm) and
    ``logreg``; anything else raises ValueError, and the skops models are used.
    """
    arrays: dict[str, np.ndarray] = {}
    n_features = None
    for fact, model in models.items():
        hasher, column_filter, tfidf, logreg = (step for _name, step in model.steps)
        shape_ok = (len(model.steps) == 4 and not hasher.alternate_sign and hasher.norm is None and not hasher.binary
                    and tfidf.sublinear_tf and tfidf.norm is None and getattr(tfidf, "use_idf", True))
        if not shape_ok:
            raise ValueError(f"{fact}: not the shape the array export reproduces ({[n for n, _ in model.steps]})")
        if n_features not in (None, hasher.n_features):
            raise ValueError(f"{fact}: hashes into {hasher.n_features} columns, the others into {n_features}")
        n_features = hasher.n_features
        coef, intercept = np.asarray(logreg.coef_, dtype=np.float64), np.asarray(logreg.intercept_, dtype=np.float64)
        if coef.shape[0] == 1:  # binary: P(classes_[1]) = expit(d) = softmax([0, d])[1]
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([[0.0], intercept])
        arrays[f"{fact}/classes"] = np.asarray([str(c) for c in logreg.classes_])
        arrays[f"{fact}/columns"] = np.asarray(column_filter.columns_, dtype=np.int64)
        arrays[f"{fact}/idf"] = np.asarray(tfidf.idf_, dtype=np.float64)
        arrays[f"{fact}/coef"] = np.ascontiguousarray(coef.T)
        arrays[f"{fact}/intercept"] = intercept
    arrays["n_features"] = np.asarray(n_features, dtype=np.int64)
    arrays["format"] = np.asarray(EXPORT_FORMAT, dtype=np.int64)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def read_arrays(path: Path, facts: tuple[str, ...]) -> tuple[int, dict[str, LinearModel]]:
    """(n_features, models) from an ``export_arrays`` file; ValueError when a part is missing or malformed."""
    with np.load(path, allow_pickle=False) as data:
        if int(data["format"]) != EXPORT_FORMAT:
            raise ValueError(f"array format {int(data['format'])}, this version reads {EXPORT_FORMAT}")
        n_features = int(data["n_features"])
        models = {}
        for fact in facts:
            columns = data[f"{fact}/columns"]
            if columns.ndim != 1 or np.any(np.diff(columns) <= 0) or (len(columns) and not 0 <= columns[0] <= columns[-1] < n_features):
                raise ValueError(f"{fact}: kept columns not increasing within 0..{n_features - 1}")
            lookup = np.full(n_features, -1, dtype=np.int32)
            lookup[columns] = np.arange(len(columns), dtype=np.int32)
            model = LinearModel(classes=tuple(str(c) for c in data[f"{fact}/classes"]), columns=columns,
                                idf=data[f"{fact}/idf"], coef=data[f"{fact}/coef"], intercept=data[f"{fact}/intercept"],
                                lookup=lookup)
            kept, n_classes = len(model.columns), len(model.classes)
            if model.idf.shape != (kept,) or model.coef.shape != (kept, n_classes) or model.intercept.shape != (n_classes,):
                raise ValueError(f"{fact}: arrays of inconsistent shapes")
            models[fact] = model
    return n_features, models
