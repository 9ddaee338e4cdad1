"""Shared helpers for the text router tests: the demo city's generator and small models
trained once per test session on synthetic complaints (no outside data)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from engine.city.loader import CityFiles, read_city
from engine.router import ComplaintGenerator, TrainingResult, train_target
from engine.router.synthetic import labelled

DEMO_CITY = Path(__file__).resolve().parents[1] / "examples" / "demo_city"
TRAIN_SIZE = 2500
KEY = "test-secret"
TRAINED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # the conftest clock's start


@cache
def demo_city() -> CityFiles:
    return read_city(DEMO_CITY)


def generator(seed: int, **options: float) -> ComplaintGenerator:
    city = demo_city()
    codes = [c.code for c in city.categories]
    return ComplaintGenerator(city.units, city.departments, codes, seed=seed, **options)


@cache
def demo_results() -> dict[str, TrainingResult]:
    """A category and a department model trained on the same synthetic texts (seed 1)."""
    complaints = generator(1).generate(TRAIN_SIZE)
    return {
        target: train_target(*labelled(complaints, target), target)
        for target in ("category", "department")
    }
