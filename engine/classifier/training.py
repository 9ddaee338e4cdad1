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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.classifier.calibration import fit_calibration
from engine.classifier.features import NgramCounts
from engine.classifier.fitting import fit_svm, margins_of, out_of_fold, score
from engine.classifier.metrics import Metrics, calibration_error, evaluate
from engine.classifier.model import TARGETS, TargetModel, softmax, text_keys
from engine.classifier.training_config import DEFAULT_GRID, MIN_TEXTS, Setting, TrainingConfig
from engine.errors import InvalidInput

__all__ = [  # the training's settings are imported from here too
    "DEFAULT_GRID", "HeldOut", "Setting", "TrainingConfig", "TrainingResult", "train_target",
    "training_metadata",
]  # fmt: skip


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
    counts = NgramCounts(texts, config.min_df)
    n, n_labels = len(texts), len(names)

    newest = np.arange(max(0, n - config.cv_sample), n)  # the k-fold and time-split sample
    rng = np.random.default_rng(config.seed)
    search_rows = np.sort(rng.permutation(newest)[: config.search_sample])

    # 1. settings by cross-validation
    search, best = [], (-1.0, config.grid[0])
    for setting in config.grid:
        margins, _, _ = out_of_fold(
            counts, y, search_rows, setting, n_labels, config, config.search_folds
        )
        accuracy, macro = score(y[search_rows], margins)
        search.append({"setting": setting.name(), "accuracy": accuracy, "macro_f1": macro})
        if (accuracy + macro) / 2 > best[0] + 1e-9:
            best = ((accuracy + macro) / 2, setting)
    setting = best[1]

    # 2. calibration and k-fold metrics, out of fold
    margins, tests, most = out_of_fold(counts, y, newest, setting, n_labels, config, config.folds)
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
    final = fit_svm(counts, y, np.arange(n), setting, n_labels, config)
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
    counts: NgramCounts,
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
    fit = fit_svm(counts, y, older, setting, len(names), config)
    calibrate = fit_calibration(oof_margins[: len(older)], y[older])
    proba = calibrate(margins_of(counts, fit, recent))
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
