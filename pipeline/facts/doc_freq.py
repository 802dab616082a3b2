"""The column filter of the fact classifiers' training pipeline (a scikit-learn estimator).

A module of its own so that run time, which reads the models as arrays
(``pipeline.facts.linear``), never imports scikit-learn. Saved models name
the type ``pipeline.facts.classify.DocFreqFilter`` (``classify.TRUSTED_TYPES``);
``classify`` hands this class out under that name, and ``__module__`` says so.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


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


DocFreqFilter.__module__ = "pipeline.facts.classify"  # the name the saved models carry
