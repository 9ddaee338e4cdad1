"""Shared helpers for the text router tests: the demo city's generator and small models
trained once per test session on synthetic complaints (no outside data)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from engine.city.loader import CityFiles, read_city
from engine.classifier import ComplaintGenerator, ModelStore, TrainingResult, train_target
from engine.classifier.synthetic import labelled
from engine.classifier.training import Setting, TrainingConfig

DEMO_CITY = Path(__file__).resolve().parents[1] / "examples" / "demo_city"
TRAIN_SIZE = 2500
KEY = "test-secret"
TRAINED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # the conftest clock's start
# Two rows of the settings grid keep the session's training short (the full grid is the
# default; tests/test_classifier_training.py runs it once).
TEST_CONFIG = TrainingConfig(grid=(Setting((1, 3), 0.5, None), Setting((1, 2), 0.5, None)))


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
        target: train_target(*labelled(complaints, target), target, TEST_CONFIG)
        for target in ("category", "department")
    }


def save_demo_models(
    directory: Path, targets: tuple[str, ...] = ("category", "department"), key: str = KEY
) -> ModelStore:
    """Put the demo models of ``targets`` in ``directory`` (a test's models_dir); the test
    contexts' secret key is ``KEY``, so the live router accepts them."""
    store = ModelStore(directory, key)
    for target in targets:
        result = demo_results()[target]
        store.save(result.model, {"training_size": result.training_size}, TRAINED_AT)
    return store


async def close_case(
    api, description: str, departments: list[str], category: str = "06002", **fields
) -> int:
    """File a case, dispatch it to each department in turn (each but the last returns it),
    and close it with the last one; works whether or not a rule dispatched it already."""
    case = await api.file(category=category, description=description, **fields)
    case_id = case["id"]
    for i, department in enumerate(departments):
        current = await api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("dispatcher"))
        allowed = current.json()["allowed_actions"]
        action = "dispatch" if "dispatch" in allowed else "redispatch"
        if current.json()["lead_department"] == department and action == "redispatch":
            continue
        response = await api.act(case_id, action, "dispatcher", department=department)
        assert response.status_code == 200, response.text
        if i < len(departments) - 1:
            response = await api.act(case_id, "return", "handler", department, reason="非本单位")
            assert response.status_code == 200, response.text
    final = departments[-1]
    for action, role, scope, data in (
        ("accept", "handler", final, {}),
        ("resolve", "handler", final, {"result": "已处理"}),
        ("callback", "operator", "00", {"satisfaction": "satisfied"}),  # hotline: 回访, and …
        ("verify", "grid_worker", "01010101", {"passed": True, "photos": ["p/after.jpg"]}),
    ):
        response = await api.act(case_id, action, role, scope, **data)
        assert response.status_code == 200, response.text
    assert response.json()["state"] == "closed"
    return case_id
