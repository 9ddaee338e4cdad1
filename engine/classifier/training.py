"""Training one target model on a city's own labelled texts (docs/CLASSIFIER.md).

The steps, each on data the model being judged never saw:

1. **Settings by cross-validation.** A small grid (n-gram range, regularisation ``C``, class
   weights) is scored by stratified k-fold on a sample of the newest texts; the best mean of
   accuracy and macro-F1 wins (ties: the earlier, simpler row of the grid).
2. **Calibration by cross-validation.** With the chosen settings, k-fold out-of-fold scores
   of the newest ``cv_sample`` texts fit the softmax temperature. The k-fold metrics reported
   are those out-of-fold predictions, each fold calibrated by a temperature fitted on the
   other folds only, so no reported number comes from data its model (or its temperature)
   was fitted on.
3. **Time-ordered split.** Texts are given oldest first; a model trained on the older
   ``1 - time_split`` of the same sample is scored on the newest share (calibrated by a
   temperature fitted on the older rows' out-of-fold scores). These newest cases are also
   the quality gate's held-out set (:mod:`engine.classifier.gate`).
4. **Refit on everything** with the chosen settings and the cross-validated temperature:
   the shipped model has seen all the data, its metrics are the cross-validated ones.

Features are TF-IDF over character n-grams (sublinear tf, smooth idf, l2 norm) with a
bounded vocabulary: the ``max_features`` most frequent n-grams (df ≥ ``min_df``), further
capped so that the weights fit ``size_budget`` bytes as float16 (the file stays under 5 MB
and a process holds each model in a few MB). The classifier is a linear SVM
(``LinearSVC``, squared hinge, one-vs-rest) run to convergence; its margins become
probabilities through the fitted temperature.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from engine.classifier.metrics import Metrics, calibration_error, evaluate
from engine.classifier.model import TARGETS, TargetModel, softmax, text_keys, top_label_map
from engine.classifier.text import analyze
from engine.errors import InvalidInput

MIN_TEXTS = 10
MISSING_MARGIN = -10.0  # a label absent from a fold's training rows
MIN_DF_FROM = 20_000  # below this many texts every n-gram may count (rare ones matter)


@dataclass(frozen=True)
class Setting:
    """One row of the settings grid."""

    ngrams: tuple[int, int] = (1, 3)
    c: float = 1.0
    class_weight: str | None = None  # None or "balanced"

    def name(self) -> str:
        weight = self.class_weight or "none"
        return f"char{self.ngrams[0]}-{self.ngrams[1]} C={self.c} weight={weight}"


DEFAULT_GRID = tuple(
    Setting(ngrams, c, weight)
    for ngrams in ((1, 3), (1, 2))
    for c in (1.0, 0.3)
    for weight in (None, "balanced")
)


@dataclass
class TrainingConfig:
    seed: int = 0
    folds: int = 5  # k-fold for calibration and the reported metrics
    search_folds: int = 3  # k-fold for choosing the settings
    search_sample: int = 8_000  # newest texts the grid is scored on
    cv_sample: int = 20_000  # newest texts the k-fold and time-ordered metrics use
    time_split: float = 0.2  # newest share held out by the time-ordered split
    min_df: int = 2  # applied from MIN_DF_FROM texts on (it bounds training memory)
    max_features: int = 50_000
    size_budget: int = 4_200_000  # bytes of float16 weights + n-grams per model file
    max_iter: int = 5_000  # liblinear passes; a fit that needs more is flagged
    grid: tuple[Setting, ...] = DEFAULT_GRID

    def params(self) -> dict[str, Any]:
        return {
            "model": "tfidf-char-ngrams+LinearSVC+temperature",
            "seed": self.seed,
            "folds": self.folds,
            "search_folds": self.search_folds,
            "search_sample": self.search_sample,
            "cv_sample": self.cv_sample,
            "time_split": self.time_split,
            "min_df": self.min_df,
            "max_features": self.max_features,
            "size_budget": self.size_budget,
            "max_iter": self.max_iter,
            "grid": [asdict(s) for s in self.grid],
        }


@dataclass
class HeldOut:
    """The time-ordered split's newest cases and how the model trained without them did."""

    texts: list[str]
    labels: list[str]
    metrics: Metrics
    proba: np.ndarray  # the calibrated answers of the model trained without them


@dataclass
class TrainingResult:
    model: TargetModel
    metrics: Metrics  # k-fold, out-of-fold, calibrated
    training_size: int  # texts the shipped model was fitted on (all of them)
    held_out_size: int  # texts the k-fold metrics were measured on
    uncalibrated_ece: float
    setting: Setting = field(default_factory=Setting)
    search: list[dict[str, Any]] = field(default_factory=list)
    time_split: HeldOut | None = None
    converged: bool = True
    iterations: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------- features


class _Counts:
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
class _Features:
    columns: np.ndarray  # columns of the count matrix kept
    idf: np.ndarray

    def transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        matrix = sparse.csr_matrix(counts[:, self.columns], dtype=np.float64)
        matrix.data = 1.0 + np.log(matrix.data)
        matrix = sparse.csr_matrix(matrix @ sparse.diags(self.idf))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _features(counts: _Counts, rows: np.ndarray, ngrams: tuple[int, int], limit: int) -> _Features:
    """The ``limit`` most frequent n-grams of ``rows`` within ``ngrams`` (smooth idf)."""
    df = np.asarray((counts.matrix[rows] > 0).sum(axis=0)).ravel()
    low, high = ngrams
    eligible = np.flatnonzero((df > 0) & (counts.lengths >= low) & (counts.lengths <= high))
    if len(eligible) > limit:
        order = np.argsort(-df[eligible], kind="stable")[:limit]
        eligible = np.sort(eligible[order])
    idf = np.log((1 + len(rows)) / (1 + df[eligible])) + 1.0
    return _Features(eligible, idf)


def feature_limit(config: TrainingConfig, n_labels: int) -> int:
    """Most n-grams whose float16 weights and names fit the size budget."""
    per_feature = 2 * n_labels + 16
    return max(1000, min(config.max_features, config.size_budget // per_feature))


# ---------------------------------------------------------------------- fitting


@dataclass
class _Fit:
    features: _Features
    weights: np.ndarray  # (F, L) over ALL labels (zeros for a label the rows lack)
    bias: np.ndarray
    iterations: int


def _fit(
    counts: _Counts,
    y: np.ndarray,
    rows: np.ndarray,
    setting: Setting,
    n_labels: int,
    config: TrainingConfig,
) -> _Fit:
    features = _features(counts, rows, setting.ngrams, feature_limit(config, n_labels))
    matrix = features.transform(counts.matrix[rows])
    present = np.unique(y[rows])
    weights = np.zeros((len(features.columns), n_labels))
    bias = np.full(n_labels, MISSING_MARGIN)
    if len(present) == 1:
        bias[present[0]] = 0.0
        return _Fit(features, weights, bias, 0)
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
    return _Fit(features, weights, bias, int(np.max(classifier.n_iter_)))


def _margins(counts: _Counts, fit: _Fit, rows: np.ndarray) -> np.ndarray:
    return np.asarray(fit.features.transform(counts.matrix[rows]) @ fit.weights) + fit.bias


def _folds(y: np.ndarray, rows: np.ndarray, k: int, seed: int) -> list[tuple[Any, Any]]:
    """Stratified when every label has k members, else plain shuffled folds."""
    smallest = min(Counter(y[rows].tolist()).values())
    k = max(2, min(k, len(rows) // 2))
    if smallest >= k:
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
        return [(rows[a], rows[b]) for a, b in splitter.split(rows, y[rows])]
    order = np.random.default_rng(seed).permutation(rows)
    parts = np.array_split(order, k)
    return [(np.concatenate(parts[:i] + parts[i + 1 :]), parts[i]) for i in range(k)]


def _out_of_fold(
    counts: _Counts,
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
    for train, test in _folds(y, rows, k, config.seed):
        fit = _fit(counts, y, train, setting, n_labels, config)
        positions = np.array([where[r] for r in test.tolist()])
        margins[positions] = _margins(counts, fit, test)
        tests.append(positions)
        most = max(most, fit.iterations)
    return margins, tests, most


def _score(y: np.ndarray, margins: np.ndarray) -> tuple[float, float]:
    predicted = margins.argmax(axis=1)
    accuracy = float((predicted == y).mean())
    f1s = []
    for label in np.union1d(np.unique(y), np.unique(predicted)):
        tp = float(((predicted == label) & (y == label)).sum())
        p, t = float((predicted == label).sum()), float((y == label).sum())
        f1s.append(2 * tp / (p + t) if p + t else 0.0)
    return accuracy, float(np.mean(f1s))


# ---------------------------------------------------------------------- the pipeline


def train_target(
    texts: Sequence[str],
    labels: Sequence[str],
    target: str,
    config: TrainingConfig | None = None,
) -> TrainingResult:
    """Choose, calibrate, measure and refit a model for ``target``; ``texts`` oldest first."""
    config = config or TrainingConfig()
    _check(texts, labels, target, config)
    texts, label_list = list(texts), [str(x) for x in labels]
    names = sorted(set(label_list))
    index = {label: i for i, label in enumerate(names)}
    y = np.array([index[label] for label in label_list])
    counts = _Counts(texts, config.min_df)
    n, n_labels = len(texts), len(names)

    newest = np.arange(max(0, n - config.cv_sample), n)  # the k-fold and time-split sample
    rng = np.random.default_rng(config.seed)
    search_rows = np.sort(rng.permutation(newest)[: config.search_sample])

    # 1. settings by cross-validation
    search, best = [], (-1.0, config.grid[0])
    for setting in config.grid:
        margins, _, _ = _out_of_fold(
            counts, y, search_rows, setting, n_labels, config, config.search_folds
        )
        accuracy, macro = _score(y[search_rows], margins)
        search.append({"setting": setting.name(), "accuracy": accuracy, "macro_f1": macro})
        if (accuracy + macro) / 2 > best[0] + 1e-9:
            best = ((accuracy + macro) / 2, setting)
    setting = best[1]

    # 2. calibration and k-fold metrics, out of fold
    margins, tests, most = _out_of_fold(counts, y, newest, setting, n_labels, config, config.folds)
    truth = y[newest]
    calibrated = np.zeros_like(margins)
    for positions in tests:
        others = np.setdiff1d(np.arange(len(newest)), positions)
        calibrated[positions] = fit_calibration(margins[others], truth[others])(margins[positions])
    metrics = evaluate([names[i] for i in truth], calibrated, names)
    raw = softmax(margins)
    raw_ece = calibration_error(raw.max(axis=1), raw.argmax(axis=1) == truth)

    # 3. time-ordered split: older rows train, the newest are held out (the gate's set)
    held_out = _time_split(counts, y, names, newest, margins, setting, config, texts)

    # 4. refit on everything, with the cross-validated temperature
    final = _fit(counts, y, np.arange(n), setting, n_labels, config)
    most = max(most, final.iterations)
    calibration = fit_calibration(margins, truth)
    model = TargetModel(
        target=target,
        labels=names,
        features=[counts.grams[c] for c in final.features.columns],
        idf=final.features.idf.astype(np.float64),
        weights=np.ascontiguousarray(final.weights, dtype=np.float32),
        bias=np.asarray(final.bias, dtype=np.float64),
        temperature=calibration.temperature,
        ngrams=setting.ngrams,
        calibration_x=calibration.xs,
        calibration_y=calibration.ys,
        seen=np.unique(text_keys(texts)),
    )
    return TrainingResult(
        model=model,
        metrics=metrics,
        training_size=n,
        held_out_size=len(newest),
        uncalibrated_ece=raw_ece,
        setting=setting,
        search=search,
        time_split=held_out,
        converged=most < config.max_iter,
        iterations=most,
        label_counts=dict(sorted(Counter(label_list).items())),
    )


def _time_split(
    counts: _Counts,
    y: np.ndarray,
    names: list[str],
    newest: np.ndarray,
    oof_margins: np.ndarray,
    setting: Setting,
    config: TrainingConfig,
    texts: list[str],
) -> HeldOut | None:
    n_test = math.floor(len(newest) * config.time_split)
    if n_test < 1 or len(newest) - n_test < 2 or len(set(y[newest[:-n_test]].tolist())) < 2:
        return None
    older, recent = newest[:-n_test], newest[-n_test:]
    fit = _fit(counts, y, older, setting, len(names), config)
    calibrate = fit_calibration(oof_margins[: len(older)], y[older])
    proba = calibrate(_margins(counts, fit, recent))
    labels = [names[i] for i in y[recent]]
    metrics = evaluate(labels, proba, names)
    return HeldOut([texts[i] for i in recent.tolist()], labels, metrics, proba)


def _check(texts: Sequence[str], labels: Sequence[str], target: str, config: TrainingConfig):
    if target not in TARGETS:
        raise InvalidInput("target", f"must be one of {', '.join(TARGETS)}")
    if not 0 < config.time_split < 1:
        raise InvalidInput("time_split", "must be between 0 and 1")
    if config.folds < 2 or config.search_folds < 2:
        raise InvalidInput("folds", "need at least 2 folds")
    if not config.grid:
        raise InvalidInput("grid", "need at least one setting")
    if len(texts) != len(labels):
        raise InvalidInput("labels", "one label per text")
    if len(texts) < MIN_TEXTS:
        raise InvalidInput("texts", f"need at least {MIN_TEXTS} labelled texts, got {len(texts)}")
    if len(set(labels)) < 2:
        raise InvalidInput("labels", "need at least two different labels")


@dataclass
class Calibration:
    """Temperature, then the top-label isotonic map (see ``TargetModel``)."""

    temperature: float
    xs: np.ndarray
    ys: np.ndarray

    def __call__(self, margins: np.ndarray) -> np.ndarray:
        return top_label_map(softmax(margins / self.temperature), self.xs, self.ys)


def fit_calibration(margins: np.ndarray, truth: np.ndarray) -> Calibration:
    """Fitted on out-of-fold margins: the temperature minimising the log-loss, then an
    isotonic map from the best label's tempered probability to how often it was right."""
    temperature = fit_temperature(margins, truth)
    proba = softmax(margins / temperature)
    top, correct = proba.max(axis=1), (proba.argmax(axis=1) == truth).astype(float)
    if len(top) < 2 * MIN_TEXTS:
        return Calibration(temperature, np.zeros(0), np.zeros(0))
    iso = IsotonicRegression(y_min=0.001, y_max=0.999, out_of_bounds="clip")  # never certain
    iso.fit(top, correct)
    return Calibration(
        temperature,
        np.asarray(iso.X_thresholds_, dtype=np.float64),
        np.asarray(iso.y_thresholds_, dtype=np.float64),
    )


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature that minimises the negative log-likelihood of ``truth``."""
    known = truth >= 0
    if not known.any():
        return 1.0
    logits, truth = logits[known], truth[known]
    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        scaled = logits / np.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float((log_norm - scaled[rows, truth]).mean())

    found = minimize_scalar(nll, bounds=(-7.0, 3.0), method="bounded")
    return float(np.exp(found.x))


def training_metadata(
    result: TrainingResult, config: TrainingConfig, source: dict[str, Any]
) -> dict[str, Any]:
    """What the model file's metadata records about its training."""
    import sklearn

    meta: dict[str, Any] = {
        "training_size": result.training_size,
        "held_out_size": result.held_out_size,
        "label_counts": result.label_counts,
        "metrics": result.metrics.to_dict(),
        "metrics_kind": f"{config.folds}-fold out-of-fold, calibrated per fold",
        "uncalibrated_ece": round(result.uncalibrated_ece, 4),
        "setting": result.setting.name(),
        "search": [
            {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            for row in result.search
        ],
        "converged": result.converged,
        "iterations": result.iterations,
        "params": config.params(),
        "source": source,
        "library": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
    }
    if result.time_split is not None:
        meta["time_split"] = result.time_split.metrics.to_dict() | {
            "size": len(result.time_split.labels)
        }
    return meta
