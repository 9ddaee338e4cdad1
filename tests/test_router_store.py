"""Model files: versioned by the injected clock, signed, verified, and never unpickled."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import numpy as np
import pytest

from engine.classifier import ModelIntegrityError, ModelStore, TextRouter
from engine.errors import InvalidInput, NotFound
from tests.router_support import KEY, TRAINED_AT, demo_results


@pytest.fixture
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "models", KEY)


def _save(store: ModelStore, target: str = "category", hours: float = 0):
    result = demo_results()[target]
    meta = {"training_size": result.training_size, "metrics": result.metrics.summary()}
    return store.save(result.model, meta, TRAINED_AT + timedelta(hours=hours))


def test_versions_come_from_the_clock_and_sort_by_time(store):
    first = _save(store)
    second = _save(store, hours=2)
    assert first.version.startswith("20260302T010000Z-")
    assert second.version.startswith("20260302T030000Z-")
    assert first.version[-8:] == second.version[-8:]  # same content, same hash part
    assert [i.version for i in store.versions("category")] == [first.version, second.version]
    assert store.latest("category") == second.version
    model, info = store.load("category")
    assert info.version == second.version
    older, _ = store.load("category", first.version)
    assert older.labels == model.labels
    assert np.array_equal(model.weights, demo_results()["category"].model.weights)
    assert model.temperature == demo_results()["category"].model.temperature


def test_metadata_records_training_and_integrity(store):
    info = _save(store)
    meta = json.loads((store.directory / f"category-{info.version}.json").read_text())
    data = (store.directory / f"category-{info.version}.npz").read_bytes()
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["created_at"] == "2026-03-02T01:00:00+00:00"
    assert meta["training_size"] == 2500 and len(meta["labels"]) == 73
    assert meta["metrics"]["accuracy"] > 0.85
    assert meta["format"] == "gridflow-router/1" and len(meta["signature"]) == 64
    assert not list(store.directory.glob("*.partial"))


def test_a_changed_model_file_is_refused(store):
    info = _save(store)
    path = store.directory / f"category-{info.version}.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        store.load("category")


def test_changed_metadata_is_refused_even_with_a_matching_hash(store):
    info = _save(store)
    npz = store.directory / f"category-{info.version}.npz"
    meta_path = store.directory / f"category-{info.version}.json"
    # An attacker swaps in other bytes and rewrites the hash: the signature catches it.
    npz.write_bytes(b"PK evil")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(b"PK evil").hexdigest()
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="signature"):
        store.load("category", info.version)
    # A quieter change: a lower temperature makes the model look more confident.
    info = _save(store, hours=1)
    meta_path = store.directory / f"category-{info.version}.json"
    meta = json.loads(meta_path.read_text())
    meta["temperature"] = 0.01
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="signature"):
        store.load("category", info.version)


def test_another_key_cannot_load(store, tmp_path):
    _save(store)
    with pytest.raises(ModelIntegrityError, match="GRIDFLOW_SECRET_KEY"):
        ModelStore(store.directory, "another-key").load("category")


def test_only_regular_files_inside_the_directory_by_version(store, tmp_path):
    info = _save(store)
    with pytest.raises(InvalidInput):
        store.load("category", "../../etc/passwd")
    with pytest.raises(InvalidInput):
        store.load("urgency")
    with pytest.raises(NotFound):
        store.load("category", "20990101T000000Z-00000000")
    # A symlinked model file (e.g. pointing at a file elsewhere) is not followed.
    outside = tmp_path / "elsewhere.npz"
    path = store.directory / f"category-{info.version}.npz"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(ModelIntegrityError, match="regular file"):
        store.load("category")


def test_router_loads_the_newest_of_each_target_or_pinned_versions(store):
    old = _save(store, "category")
    new = _save(store, "category", hours=1)
    _save(store, "department")
    router = TextRouter.load(store)
    assert router.versions["category"] == new.version
    assert set(router.models) == {"category", "department"}
    pinned = TextRouter.load(store, {"category": old.version})
    assert pinned.versions["category"] == old.version
    only = TextRouter.load(store, targets=["category"])
    prediction = only.predict("路灯不亮")
    assert prediction.department is None and prediction.category == "01003"
    assert prediction.top3 == prediction.guess("category").top3
