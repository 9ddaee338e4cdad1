"""A trained model for one target (category or department): plain arrays, no pickle.

TF-IDF over character n-grams (sublinear tf, smooth idf, l2 norm, as scikit-learn's
``TfidfVectorizer``) and a linear scorer, ``softmax((x · W + b) / T)``, whose temperature
``T`` was fitted on held-out texts so that confidences are calibrated. Because the model is
only arrays it is stored as ``.npz`` and loaded with ``allow_pickle=False``: a model file
can never run code. Single texts take a fast path (dictionary look-ups and a gather of the
weight rows they touch) instead of building a sparse matrix.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.classifier.text import analyze, normalize

if TYPE_CHECKING:
    from scipy import sparse

TARGETS = ("category", "department")


@dataclass
class TargetModel:
    target: str
    labels: list[str]
    features: list[str]  # n-gram per column
    idf: np.ndarray  # (F,)
    weights: np.ndarray  # (F, L) float32
    bias: np.ndarray  # (L,)
    temperature: float = 1.0
    ngrams: tuple[int, int] = (1, 3)
    # The top-label map (isotonic, fitted out of fold): the best label's tempered
    # probability x becomes interp(x, calibration_x, calibration_y); the others are scaled
    # to keep the sum 1. Empty: the temperature alone.
    calibration_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    calibration_y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # CRC-32 of every normalised training text, sorted: which cases this model has seen (the
    # quality gate compares models only on cases neither saw). Empty: unknown.
    seen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    vocabulary: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r}")
        n_features, n_labels = self.weights.shape
        if len(self.features) != n_features or len(self.idf) != n_features:
            raise ValueError("features, idf and weights disagree in size")
        if len(self.labels) != n_labels or len(self.bias) != n_labels:
            raise ValueError("labels, bias and weights disagree in size")
        self.vocabulary = {gram: i for i, gram in enumerate(self.features)}

    # ------------------------------------------------------------- predicting

    def proba_grams(self, grams: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities per label for one text's n-grams (the fast path)."""
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for gram in grams:
            j = vocabulary.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if counts:
            index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            value = (1.0 + np.log(tf)) * self.idf[index]
            value /= np.sqrt(value @ value)
            logits = value @ self.weights[index] + self.bias
        else:
            logits = self.bias.astype(np.float64)
        return self.calibrate(softmax(logits / self.temperature))

    def calibrate(self, proba: np.ndarray) -> np.ndarray:
        return top_label_map(proba, self.calibration_x, self.calibration_y)

    def proba(self, text: str) -> np.ndarray:
        return self.proba_grams(analyze(text, self.ngrams))

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows for many texts (same numbers as the fast path)."""
        from scipy import sparse  # batch use only: single predictions start without scipy

        indptr, indices, values = [0], [], []
        vocabulary = self.vocabulary
        for text in texts:
            counts: dict[int, int] = {}
            for gram in analyze(text, self.ngrams):
                j = vocabulary.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            indices.extend(counts.keys())
            values.extend(counts.values())
            indptr.append(len(indices))
        tf = np.asarray(values, dtype=np.float64)
        cols = np.asarray(indices, dtype=np.intp)
        data = (1.0 + np.log(tf)) * self.idf[cols] if len(cols) else tf
        matrix = sparse.csr_matrix(
            (data, cols, np.asarray(indptr)), shape=(len(texts), len(self.features))
        )
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)

    def logits_many(self, texts: Sequence[str]) -> np.ndarray:
        """Uncalibrated scores, shape (len(texts), L)."""
        return np.asarray(self.transform(texts) @ self.weights) + self.bias

    def proba_many(self, texts: Sequence[str]) -> np.ndarray:
        return self.calibrate(softmax(self.logits_many(texts) / self.temperature))

    # ------------------------------------------------------------- storage

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything but the scalars, as arrays ``np.savez`` stores without pickling."""
        return {
            "labels": np.array(self.labels, dtype=str),
            "features": np.array(self.features, dtype=str),
            "idf": self.idf,
            "weights": self.weights.astype(np.float16),  # halves the file; trained so
            "bias": self.bias,
            "calibration_x": self.calibration_x,
            "calibration_y": self.calibration_y,
            "seen": self.seen,
        }

    def scalars(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "temperature": self.temperature,
            "ngrams": list(self.ngrams),
        }

    @classmethod
    def from_arrays(cls, arrays: Any, scalars: dict[str, Any]) -> TargetModel:
        low, high = scalars["ngrams"]
        return cls(
            target=scalars["target"],
            labels=[str(x) for x in arrays["labels"].tolist()],
            features=[str(x) for x in arrays["features"].tolist()],
            idf=np.asarray(arrays["idf"], dtype=np.float64),
            weights=np.ascontiguousarray(arrays["weights"], dtype=np.float32),
            bias=np.asarray(arrays["bias"], dtype=np.float64),
            temperature=float(scalars["temperature"]),
            ngrams=(int(low), int(high)),
            calibration_x=_optional(arrays, "calibration_x"),
            calibration_y=_optional(arrays, "calibration_y"),
            seen=np.asarray(arrays["seen"], dtype=np.uint32)
            if "seen" in arrays
            else np.zeros(0, dtype=np.uint32),
        )

    def saw(self, texts: Sequence[str]) -> np.ndarray:
        """Which of ``texts`` this model was trained on (all False when unknown)."""
        if len(self.seen) == 0:
            return np.zeros(len(texts), dtype=bool)
        keys = text_keys(texts)
        at = np.clip(np.searchsorted(self.seen, keys), 0, len(self.seen) - 1)
        return self.seen[at] == keys


def _optional(arrays: Any, name: str) -> np.ndarray:
    return np.asarray(arrays[name], dtype=np.float64) if name in arrays else np.zeros(0)


def top_label_map(proba: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Move each row's best probability through the map (xs -> ys), the rest scaled to sum
    to 1; the best label stays the best."""
    if len(xs) == 0:
        return proba
    rows = np.atleast_2d(proba)
    best = rows.argmax(axis=1)
    at = np.arange(len(rows))
    top = rows[at, best]
    rest = 1.0 - top
    second = np.sort(rows, axis=1)[:, -2] if rows.shape[1] > 1 else np.zeros(len(rows))
    mapped = np.interp(top, xs, ys)
    # never below the runner-up after scaling, so the ranking is unchanged
    floor = np.where(rest > 0, second / np.maximum(rest + second, 1e-12), 0.0)
    mapped = np.clip(np.maximum(mapped, floor), 0.0, 1.0)
    scale = np.where(rest > 1e-12, (1.0 - mapped) / np.maximum(rest, 1e-12), 0.0)
    out = rows * scale[:, None]
    others = max(1, rows.shape[1] - 1)
    flat = rest <= 1e-12  # the rest were all 0: what the map takes away is shared evenly
    out[flat] = ((1.0 - mapped[flat]) / others)[:, None]
    out[at, best] = mapped
    return out.reshape(proba.shape)


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """CRC-32 of each normalised text (what ``TargetModel.seen`` holds)."""
    return np.fromiter(
        (zlib.crc32(normalize(t).encode()) for t in texts), dtype=np.uint32, count=len(texts)
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def top_k(proba: np.ndarray, labels: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most likely labels with their probabilities, best first."""
    k = min(k, len(labels))
    best = np.argpartition(-proba, k - 1)[:k] if k < len(labels) else np.arange(len(labels))
    best = best[np.argsort(-proba[best], kind="stable")]
    return [(labels[i], float(proba[i])) for i in best]
