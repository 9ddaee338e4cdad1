"""The training's settings: the grid of model settings cross-validation chooses from, and
how the data is sampled and split (engine/classifier/training.py, docs/CLASSIFIER.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MIN_TEXTS = 10


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
