"""Fitting the linear SVM on rows of the n-gram counts, its margins, and the folds the
cross-validation scores on (engine/classifier/training.py)."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from engine.classifier.features import Features, NgramCounts, feature_limit, select_features
from engine.classifier.training_config import Setting, TrainingConfig

MISSING_MARGIN = -10.0  # a label absent from a fold's training rows


@dataclass
class Fit:
    features: Features
    weights: np.ndarray  # (F, L) over ALL labels (zeros for a label the rows lack)
    bias: np.ndarray
    iterations: int


def fit_svm(
    counts: NgramCounts,
    y: np.ndarray,
    rows: np.ndarray,
    setting: Setting,
    n_labels: int,
    config: TrainingConfig,
) -> Fit:
    features = select_features(counts, rows, setting.ngrams, feature_limit(config, n_labels))
    matrix = features.transform(counts.matrix[rows])
    present = np.unique(y[rows])
    weights = np.zeros((len(features.columns), n_labels))
    bias = np.full(n_labels, MISSING_MARGIN)
    if len(present) == 1:
        bias[present[0]] = 0.0
        return Fit(features, weights, bias, 0)
    classifier = LinearSVC(
        C=setting.c,
        class_weight=setting.class_weight,
        max_iter=config.max_iter,
        tol=1e-4,
        random_state=config.seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(matrix, y[rows])
    coef, intercept = classifier.coef_, classifier.intercept_
    if coef.shape[0] == 1:  # two labels: one score s becomes margins (-s/2, s/2)
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    # float16, as stored: the model that is measured is the model that is shipped
    weights[:, classifier.classes_] = coef.T.astype(np.float16).astype(np.float64)
    bias[classifier.classes_] = intercept
    return Fit(features, weights, bias, int(np.max(classifier.n_iter_)))


def margins_of(counts: NgramCounts, fit: Fit, rows: np.ndarray) -> np.ndarray:
    return np.asarray(fit.features.transform(counts.matrix[rows]) @ fit.weights) + fit.bias


def folds(y: np.ndarray, rows: np.ndarray, k: int, seed: int) -> list[tuple[Any, Any]]:
    """Stratified when every label has k members, else plain shuffled folds."""
    smallest = min(Counter(y[rows].tolist()).values())
    k = max(2, min(k, len(rows) // 2))
    if smallest >= k:
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
        return [(rows[a], rows[b]) for a, b in splitter.split(rows, y[rows])]
    order = np.random.default_rng(seed).permutation(rows)
    parts = np.array_split(order, k)
    return [(np.concatenate(parts[:i] + parts[i + 1 :]), parts[i]) for i in range(k)]


def out_of_fold(
    counts: NgramCounts,
    y: np.ndarray,
    rows: np.ndarray,
    setting: Setting,
    n_labels: int,
    config: TrainingConfig,
    k: int,
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Margins of every row of ``rows`` from a model that did not see it; the folds' test
    positions (into ``rows``), the most iterations a fit took."""
    where = {row: i for i, row in enumerate(rows.tolist())}
    margins = np.zeros((len(rows), n_labels))
    tests, most = [], 0
    for train, test in folds(y, rows, k, config.seed):
        fit = fit_svm(counts, y, train, setting, n_labels, config)
        positions = np.array([where[r] for r in test.tolist()])
        margins[positions] = margins_of(counts, fit, test)
        tests.append(positions)
        most = max(most, fit.iterations)
    return margins, tests, most


def score(y: np.ndarray, margins: np.ndarray) -> tuple[float, float]:
    predicted = margins.argmax(axis=1)
    accuracy = float((predicted == y).mean())
    f1s = []
    for label in np.union1d(np.unique(y), np.unique(predicted)):
        tp = float(((predicted == label) & (y == label)).sum())
        p, t = float((predicted == label).sum()), float((y == label).sum())
        f1s.append(2 * tp / (p + t) if p + t else 0.0)
    return accuracy, float(np.mean(f1s))
