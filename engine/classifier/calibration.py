"""Calibration of the margins into probabilities: a softmax temperature, then a top-label
isotonic map, both fitted on out-of-fold margins (engine/classifier/training.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.isotonic import IsotonicRegression

from engine.classifier.model import softmax, top_label_map
from engine.classifier.training_config import MIN_TEXTS


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
