"""How good a model is: accuracy, macro-F1, top-3, calibration and operating points.

``operating_points`` answers the question an administrator setting the auto-dispatch
threshold has: at confidence ≥ t, what share of cases would be routed automatically, and how
many of those would be right?
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
BAND_MIN = 50  # a confidence band is judged only with at least this many messages


@dataclass
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Metrics:
    size: int
    accuracy: float
    macro_f1: float
    top3_accuracy: float
    ece: float  # expected calibration error of the top-1 confidence (10 bins)
    per_label: list[LabelScore] = field(default_factory=list)
    operating_points: list[dict[str, float]] = field(default_factory=list)
    reliability: list[dict[str, Any]] = field(default_factory=list)

    @property
    def max_band_gap(self) -> float | None:
        """The largest |claimed - observed| over bands with at least ``BAND_MIN`` messages."""
        gaps = [band["gap"] for band in self.reliability if band["judged"]]
        return max(gaps) if gaps else None

    def summary(self) -> dict[str, Any]:
        """Headline numbers, rounded, without the per-label table."""
        return {
            "size": self.size,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "top3_accuracy": round(self.top3_accuracy, 4),
            "ece": round(self.ece, 4),
        }

    def to_dict(self) -> dict[str, Any]:
        return self.summary() | {
            "operating_points": self.operating_points,
            "reliability": self.reliability,
            "per_label": [asdict(row) for row in self.per_label],
        }


def evaluate(y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str]) -> Metrics:
    """Score probabilities ``proba`` (n × len(labels)) against true labels.

    A true label the model does not know counts as a miss everywhere.
    """
    n = len(y_true)
    if n == 0:
        raise ValueError("nothing to evaluate")
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index.get(label, -1) for label in y_true])
    predicted = proba.argmax(axis=1)
    confidence = proba[np.arange(n), predicted]
    correct = predicted == truth
    k = min(3, len(labels))
    top3 = np.argsort(-proba, axis=1)[:, :k]
    in_top3 = (top3 == truth[:, None]).any(axis=1)
    rows = _per_label(list(y_true), [labels[i] for i in predicted])
    macro = float(np.mean([row.f1 for row in rows]))  # over true ∪ predicted, as sklearn
    return Metrics(
        size=n,
        accuracy=float(correct.mean()),
        macro_f1=macro,
        top3_accuracy=float(in_top3.mean()),
        ece=calibration_error(confidence, correct),
        per_label=rows,
        operating_points=operating_points(confidence, correct),
        reliability=reliability(confidence, correct),
    )


def _per_label(y_true: list[str], y_pred: list[str]) -> list[LabelScore]:
    """Precision, recall and F1 for every label that is true or predicted somewhere."""
    support = Counter(y_true)
    predicted = Counter(y_pred)
    hits = Counter(t for t, p in zip(y_true, y_pred, strict=True) if t == p)
    rows = []
    for label in sorted(support.keys() | predicted.keys()):
        tp = hits[label]
        precision = tp / predicted[label] if predicted[label] else 0.0
        recall = tp / support[label] if support[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(LabelScore(label, precision, recall, f1, support[label]))
    return rows


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy, bin-weighted."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    where = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = where == b
        if mask.any():
            total += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(total)


def operating_points(
    confidence: np.ndarray, correct: np.ndarray, thresholds: Sequence[float] = THRESHOLDS
) -> list[dict[str, float]]:
    """For each threshold: share routed automatically and their accuracy."""
    points = []
    for threshold in thresholds:
        auto = confidence >= threshold
        points.append(
            {
                "threshold": threshold,
                "auto_share": round(float(auto.mean()), 4),
                "auto_accuracy": round(float(correct[auto].mean()), 4) if auto.any() else 1.0,
            }
        )
    return points


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10, min_count: int = BAND_MIN
) -> list[dict[str, Any]]:
    """Claimed (mean confidence) against observed accuracy in each non-empty band of width
    1/``bins``; ``judged`` marks the bands with at least ``min_count`` messages."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    where = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    bands = []
    for b in range(bins):
        mask = where == b
        if not mask.any():
            continue
        claimed, observed = float(confidence[mask].mean()), float(correct[mask].mean())
        bands.append(
            {
                "low": round(float(edges[b]), 2),
                "high": round(float(edges[b + 1]), 2),
                "count": int(mask.sum()),
                "claimed": round(claimed, 4),
                "observed": round(observed, 4),
                "gap": round(abs(claimed - observed), 4),
                "judged": bool(mask.sum() >= min_count),
            }
        )
    return bands


def report_lines(metrics: Metrics) -> list[str]:
    """The reliability table and the operating points, as text (``evaluate``, ``train``)."""
    lines = ["confidence band   messages  claimed  observed   gap"]
    for band in metrics.reliability:
        note = "" if band["judged"] else f"  (fewer than {BAND_MIN}: not judged)"
        lines.append(
            f"  {band['low']:.1f}-{band['high']:.1f}      {band['count']:>8}  "
            f"{band['claimed']:>7.3f}  {band['observed']:>8.3f}  {band['gap']:>5.3f}{note}"
        )
    lines += ["threshold  routed share  routed accuracy  to a person"]
    for p in metrics.operating_points:
        lines.append(
            f"  {p['threshold']:>7.2f}  {p['auto_share']:>12.1%}  {p['auto_accuracy']:>15.1%}"
            f"  {1 - p['auto_share']:>11.1%}"
        )
    return lines
