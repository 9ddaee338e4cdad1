"""Calibration: the reliability table, the top-label map, and the cross-validated training."""

from __future__ import annotations

import numpy as np

from engine.classifier.metrics import evaluate, reliability, report_lines
from engine.classifier.model import top_label_map
from engine.classifier.synthetic import labelled
from engine.classifier.training import DEFAULT_GRID, TrainingConfig, train_target
from tests.router_support import demo_results, generator


def test_reliability_table_claimed_against_observed_per_band():
    confidence = np.array([0.95] * 60 + [0.85] * 50 + [0.55] * 10)
    correct = np.array(
        [True] * 57 + [False] * 3 + [True] * 40 + [False] * 10 + [True] * 5 + [False] * 5
    )
    bands = {b["low"]: b for b in reliability(confidence, correct)}
    assert set(bands) == {0.5, 0.8, 0.9}
    assert bands[0.9] == {
        "low": 0.9, "high": 1.0, "count": 60, "claimed": 0.95, "observed": 0.95,
        "gap": 0.0, "judged": True,
    }  # fmt: skip
    assert bands[0.8]["observed"] == 0.8 and bands[0.8]["gap"] == 0.05 and bands[0.8]["judged"]
    assert not bands[0.5]["judged"]  # fewer than 50 messages: shown, not judged


def test_evaluate_reports_the_table_and_the_routed_share_in_text_and_json():
    model = demo_results()["department"].model
    texts, labels = labelled(generator(42).generate(800), "department")
    metrics = evaluate(labels, model.proba_many(texts), model.labels)
    data = metrics.to_dict()
    assert sum(b["count"] for b in data["reliability"]) == 800
    assert [p["threshold"] for p in data["operating_points"]] == [
        0.5,
        0.6,
        0.7,
        0.8,
        0.85,
        0.9,
        0.95,
    ]
    text = "\n".join(report_lines(metrics))
    assert "confidence band" in text and "routed share" in text and "to a person" in text
    assert "0.9-1.0" in text


def test_cross_validated_confidence_is_calibrated_on_synthetic_data():
    for target in ("category", "department"):
        result = demo_results()[target]
        judged = [b for b in result.metrics.reliability if b["judged"]]
        assert judged, target
        for band in judged:  # within 0.03, or within two standard errors of a small band
            p, n = band["observed"], band["count"]
            assert band["gap"] <= max(0.03, 2 * (p * (1 - p) / n) ** 0.5), (target, band)
        assert result.metrics.ece < 0.03
        assert result.uncalibrated_ece > result.metrics.ece  # raw SVM margins are not


def test_the_top_label_map_keeps_the_ranking_and_the_sum():
    proba = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [1.0, 0.0, 0.0]])
    xs, ys = np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.2, 0.9])
    mapped = top_label_map(proba, xs, ys)
    assert np.allclose(mapped.sum(axis=1), 1.0)
    assert (mapped.argmax(axis=1) == proba.argmax(axis=1)).all()
    assert np.isclose(mapped[2, 0], 0.9)  # certain became 0.9 as fitted
    assert mapped[1, 0] >= mapped[1, 1]  # mapped below the runner-up: held at its level
    assert np.array_equal(top_label_map(proba, np.zeros(0), np.zeros(0)), proba)


def test_the_full_settings_grid_is_searched_and_the_vocabulary_bounded():
    texts, labels = labelled(generator(8).generate(900), "category")
    config = TrainingConfig(size_budget=200_000)  # ~1,200 n-grams for 73 labels
    result = train_target(texts, labels, "category", config)
    assert [row["setting"] for row in result.search] == [s.name() for s in DEFAULT_GRID]
    assert result.setting in DEFAULT_GRID and result.converged
    assert len(result.model.features) <= 200_000 // (2 * 73 + 16)
    assert result.model.weights.nbytes / 2 <= 200_000  # stored as float16
    assert result.time_split is not None and result.metrics.size == 900
