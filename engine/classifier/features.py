"""The classifier's features: TF-IDF over character n-grams with a bounded vocabulary,
counted once per training and picked per fit (engine/classifier/training.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from engine.classifier.text import analyze
from engine.classifier.training_config import TrainingConfig

MIN_DF_FROM = 20_000  # below this many texts every n-gram may count (rare ones matter)


class NgramCounts:
    """Raw n-gram counts of every text, computed once; each fit picks its columns."""

    def __init__(self, texts: Sequence[str], min_df: int) -> None:
        self.vectorizer = CountVectorizer(
            analyzer=partial(analyze, ngrams=(1, 3)),
            min_df=min_df if len(texts) >= MIN_DF_FROM else 1,
            dtype=np.float32,
        )
        self.matrix = sparse.csr_matrix(self.vectorizer.fit_transform(texts))
        self.vectorizer.stop_words_ = set()  # pruned n-grams: large, never needed again
        grams = [""] * len(self.vectorizer.vocabulary_)
        for gram, column in self.vectorizer.vocabulary_.items():
            grams[column] = gram
        self.grams = grams
        self.lengths = np.array([len(g) for g in grams])


@dataclass
class Features:
    columns: np.ndarray  # columns of the count matrix kept
    idf: np.ndarray

    def transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        matrix = sparse.csr_matrix(counts[:, self.columns], dtype=np.float64)
        matrix.data = 1.0 + np.log(matrix.data)
        matrix = sparse.csr_matrix(matrix @ sparse.diags(self.idf))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def select_features(
    counts: NgramCounts, rows: np.ndarray, ngrams: tuple[int, int], limit: int
) -> Features:
    """The ``limit`` most frequent n-grams of ``rows`` within ``ngrams`` (smooth idf)."""
    df = np.asarray((counts.matrix[rows] > 0).sum(axis=0)).ravel()
    low, high = ngrams
    eligible = np.flatnonzero((df > 0) & (counts.lengths >= low) & (counts.lengths <= high))
    if len(eligible) > limit:
        order = np.argsort(-df[eligible], kind="stable")[:limit]
        eligible = np.sort(eligible[order])
    idf = np.log((1 + len(rows)) / (1 + df[eligible])) + 1.0
    return Features(eligible, idf)


def feature_limit(config: TrainingConfig, n_labels: int) -> int:
    """Most n-grams whose float16 weights and names fit the size budget."""
    per_feature = 2 * n_labels + 16
    return max(1000, min(config.max_features, config.size_budget // per_feature))
