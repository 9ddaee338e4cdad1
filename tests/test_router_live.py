"""The process's live text router: the newest models, loaded once per version and shared;
a bad model file is logged and treated as no model."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from engine.classifier import LiveRouter
from tests.router_support import KEY, TRAINED_AT, demo_results, save_demo_models


class Ticks:
    """A monotonic clock the test moves (the rescan interval), never a sleep."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_no_directory_or_no_model_is_no_router(tmp_path):
    live = LiveRouter(tmp_path / "missing", KEY)
    assert live.get() is None and live.suggest("路灯不亮") is None and not live.present()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.json").write_text("{}")  # not a model file
    assert LiveRouter(tmp_path / "empty", KEY).get() is None


def test_loaded_once_per_version_and_a_new_version_is_picked_up(tmp_path):
    store = save_demo_models(tmp_path / "models", ("category",))
    live = LiveRouter(store.directory, KEY)
    first = live.get()
    assert first is not None and live.get() is first  # cached, not reloaded
    assert first.model_version.startswith("category@") and "department" not in first.versions
    [top, *_] = live.suggest("小区门口垃圾堆积三天无人清理") or []
    assert top.category == "06002" and 0 < top.confidence <= 1

    result = demo_results()["department"]  # a department model appears (another process)
    store.save(result.model, {}, TRAINED_AT + timedelta(days=1))
    second = live.get()
    assert second is not first and set(second.versions) == {"category", "department"}
    assert live.get() is second


def test_a_model_that_fails_its_checks_is_logged_once_and_ignored(tmp_path, caplog):
    store = save_demo_models(tmp_path / "models", ("category",))
    [meta] = store.directory.glob("*.json")
    changed = json.loads(meta.read_text()) | {"training_size": 1}  # edited by hand
    meta.write_text(json.dumps(changed))
    ticks = Ticks()
    live = LiveRouter(store.directory, KEY, monotonic=ticks)
    with caplog.at_level(logging.WARNING, logger="gridflow.router"):
        assert live.get() is None and live.present()
        ticks.now += 3600  # rescanned later: the same bad version is not retried
        assert live.get() is None
    assert caplog.text.count("text router unavailable") == 1
    assert "signature" in caplog.text

    other = LiveRouter(store.directory, "another-key")  # foreign key: refused, no crash
    assert other.get() is None and other.suggest("垃圾") is None
