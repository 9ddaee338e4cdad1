"""The quality gate, the pin every process reads, activate and rollback."""

from __future__ import annotations

import json
import random

import pytest

from engine.classifier import LiveRouter, ModelIntegrityError, ModelStore, TextRouter
from engine.classifier.gate import judge
from engine.classifier.synthetic import labelled
from engine.errors import NotFound
from engine.settings import get_settings
from tests.router_support import KEY, TEST_CONFIG, TRAINED_AT, demo_results, generator
from web.cli import main

QUICK = ["--folds", "3", "--search-sample", "600"]


def _save(store: ModelStore, hours: int = 0, target: str = "category"):
    from datetime import timedelta

    result = demo_results()[target]
    return store.save(result.model, {}, TRAINED_AT + timedelta(hours=hours))


# ---------------------------------------------------------------- the gate


def test_gate_keeps_the_live_model_when_the_new_one_is_worse():
    from engine.classifier.training import train_target

    good = demo_results()["category"]
    assert judge(good, None, None).passed  # nothing live yet
    texts, labels = labelled(generator(2).generate(400), "category")
    random.Random(0).shuffle(labels)  # nonsense labels: a model worse than the live one
    worse = train_target(texts, labels, "category", TEST_CONFIG)
    verdict = judge(worse, good.model, "v-good")
    assert not verdict.passed and "worse than live v-good" in verdict.reason
    assert verdict.cases == len(worse.time_split.labels)  # the same newest cases for both
    assert verdict.live_accuracy > verdict.new_accuracy
    seen = judge(good, good.model, "same")  # the live model saw every held-out case
    assert not seen.passed and "only 0 held-out cases" in seen.reason
    small = train_target(*labelled(generator(3).generate(300), "category"), "category", TEST_CONFIG)
    better = judge(good, small.model, "v-small")
    assert better.passed and better.cases == 500 and "neither has seen" in better.reason
    assert better.new_accuracy >= better.live_accuracy


# ---------------------------------------------------------------- the pin


def test_pin_decides_what_is_live_for_every_process(tmp_path):
    store = ModelStore(tmp_path, KEY)
    first, second = _save(store, 0), _save(store, 2)
    assert store.pin() is None and store.live_versions() == {"category": second.version}
    live_a, live_b = LiveRouter(tmp_path, KEY), LiveRouter(tmp_path, KEY)  # two processes
    assert live_a.get().versions == {"category": second.version}

    store.set_pin({"category": first.version}, "admin", "older is better", TRAINED_AT)
    for live in (live_a, live_b):
        assert live.get().versions == {"category": first.version}
    assert TextRouter.load(store).versions == {"category": first.version}
    third = _save(store, 4)  # a newer file alone changes nothing
    assert live_a.get().versions == {"category": first.version}

    store.set_pin({"category": third.version}, "admin", "newest", TRAINED_AT)
    assert live_b.get().versions == {"category": third.version}
    pin = store.rollback("admin", TRAINED_AT)
    assert pin["active"] == {"category": first.version} and "rollback" in pin["reason"]
    assert live_a.get().versions == {"category": first.version}
    with pytest.raises(NotFound, match="roll back"):
        store.rollback("admin", TRAINED_AT)


def test_a_changed_pin_is_refused_and_nothing_is_live(tmp_path):
    store = ModelStore(tmp_path, KEY)
    first, second = _save(store, 0), _save(store, 2)
    store.set_pin({"category": second.version}, "admin", "", TRAINED_AT)
    path = tmp_path / "active.json"
    pin = json.loads(path.read_text())
    pin["active"]["category"] = first.version  # edited by hand, signature unchanged
    path.write_text(json.dumps(pin))
    with pytest.raises(ModelIntegrityError, match="signature"):
        store.live_versions()
    assert LiveRouter(tmp_path, KEY).get() is None
    assert LiveRouter(tmp_path, "another-key").get() is None
    with pytest.raises(NotFound):
        ModelStore(tmp_path, KEY).set_pin(
            {"category": "20990101T000000Z-00000000"}, "a", "", TRAINED_AT
        )


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDFLOW_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("GRIDFLOW_SECRET_KEY", KEY)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _listed(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["router", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_train_gate_activate_rollback(env, capsys):
    good, bad = env / "good.csv", env / "bad.csv"
    main(["router", "generate", "--count", "800", "--seed", "1", "--out", str(good)])
    main(["router", "generate", "--count", "800", "--seed", "2", "--out", str(bad)])
    rows = bad.read_text(encoding="utf-8").splitlines()
    header, body = rows[0], rows[1:]
    shuffled = [r.rsplit(",", 3) for r in body]
    categories = [r[1] for r in shuffled]
    random.Random(1).shuffle(categories)
    bad.write_text(
        "\n".join(
            [header]
            + [",".join([r[0], c, *r[2:]]) for r, c in zip(shuffled, categories, strict=True)]
        ),
        encoding="utf-8",
    )
    train = ["router", "train", "--label-column", "category", *QUICK]
    assert main([*train, "--file", str(good)]) == 0
    assert "-> LIVE" in capsys.readouterr().out
    assert main([*train, "--file", str(bad)]) == 0
    out = capsys.readouterr().out
    assert "worse than live" in out and "NOT activated" in out
    first, second = _listed(capsys)
    assert first["live"] and not second["live"] and second["gate_passed"] is False

    assert main(["router", "activate", second["version"]]) == 2
    assert "failed the quality gate" in capsys.readouterr().err
    assert main(["router", "activate", second["version"], "--force", "--by", "王工"]) == 0
    assert [m["live"] for m in _listed(capsys)] == [False, True]
    assert main(["router", "rollback", "--by", "王工"]) == 0
    assert [m["live"] for m in _listed(capsys)] == [True, False]
    assert main(["router", "activate", "20990101T000000Z-00000000"]) == 2
