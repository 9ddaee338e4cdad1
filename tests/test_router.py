"""The text router: synthetic complaints, training, evaluation, prediction, thresholds."""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from engine.classifier import ModelStore, TextRouter, evaluate, route, train_target
from engine.classifier.synthetic import labelled
from engine.classifier.text import analyze, case_text, normalize
from engine.errors import InvalidInput, NotFound
from tests.router_support import KEY, TRAINED_AT, demo_city, demo_results, generator

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def router(tmp_path_factory) -> TextRouter:
    store = ModelStore(tmp_path_factory.mktemp("models"), KEY)
    for result in demo_results().values():
        store.save(result.model, {"training_size": result.training_size}, TRAINED_AT)
    return TextRouter.load(store)


# ---------------------------------------------------------------- synthetic complaints


def test_generator_is_deterministic_and_covers_the_catalogue():
    first = [c.text for c in generator(7).generate(300)]
    assert first == [c.text for c in generator(7).generate(300)]
    assert first != [c.text for c in generator(8).generate(300)]
    city = demo_city()
    sample = generator(3).generate(2000)
    assert {c.category for c in sample} == {c.code for c in city.categories}  # all 73
    departments = {d.code for d in city.departments}
    assert {c.department for c in sample} <= departments
    assert all(c.unit.startswith(("01", "02")) and len(c.unit) == 8 for c in sample)


def test_generated_texts_are_noisy_like_real_calls():
    sample = [c.text for c in generator(5).generate(2000)]

    def share(predicate) -> float:
        return sum(1 for text in sample if predicate(text)) / len(sample)

    assert share(lambda t: any(w in t for w in ("您好", "那个", "麻烦"))) > 0.2  # fillers
    assert share(lambda t: "拉圾" in t or "燥音" in t or "露" in t) > 0.01  # typos
    assert share(lambda t: not CJK.search(t[:12])) > 0.01  # English-only calls
    assert share(lambda t: re.search(r"[a-z]{3,}", t) and CJK.search(t)) > 0.02  # mixed
    assert share(lambda t: "东湖区" in t or "西岭区" in t or "街道" in t or "社区" in t) > 0.3
    assert share(lambda t: re.search(r"\d+号", t)) > 0.1  # house numbers
    assert len(set(sample)) > 0.97 * len(sample)
    clean = generator(5, noise=0).generate(200)
    assert all("拉圾" not in c.text for c in clean)


def test_department_follows_the_place():
    gen = generator(0)
    assert gen.department("HW@district", "01010101") == "HW-01"
    assert gen.department("HW@district", "02020102") == "HW-02"
    assert gen.department("CG@street", "02020102") == "CG-0202"
    assert gen.department("SZ@city", "01020101") == "SZ-00"
    assert gen.department("SJ@street", "01010101") == "SJ-01"  # no street office: one up
    assert gen.department("NOPE@city", "01010101") is None


# ---------------------------------------------------------------- features


def test_normalize_and_ngrams():
    assert normalize("  ＡＢＣ１２３号\t路灯\n") == "abc0号 路灯"
    assert analyze("路灯坏") == ["路", "灯", "坏", "路灯", "灯坏", "路灯坏"]

    class Row:
        description, address = "路灯不亮", "湖滨路12号"

    assert case_text(Row()) == "路灯不亮 湖滨路12号"


def test_fast_path_matches_scikit_learn_tfidf():
    model = demo_results()["category"].model
    texts = [c.text for c in generator(11).generate(100)] + ["", "zzz"]
    reference = TfidfVectorizer(
        analyzer=partial(analyze, ngrams=model.ngrams),
        sublinear_tf=True,
        vocabulary=model.vocabulary,
    ).fit(texts)
    reference.idf_ = model.idf
    assert np.allclose(reference.transform(texts).toarray(), model.transform(texts).toarray())
    single = np.array([model.proba(t) for t in texts])
    assert np.allclose(single, model.proba_many(texts))
    assert np.allclose(single.sum(axis=1), 1.0)


# ---------------------------------------------------------------- train and evaluate


def test_training_reports_cross_validated_metrics():
    category = demo_results()["category"]
    # refit on all 2,500; the metrics are 5-fold out-of-fold over the same 2,500
    assert category.training_size == 2500 and category.held_out_size == 2500
    assert category.time_split is not None and len(category.time_split.labels) == 500
    assert category.converged
    assert len(category.model.labels) == 73
    summary = category.metrics.summary()
    assert summary["accuracy"] > 0.85 and summary["macro_f1"] > 0.8
    assert summary["top3_accuracy"] >= summary["accuracy"]
    assert summary["ece"] < 0.08  # calibrated by the fitted temperature
    points = category.metrics.operating_points
    assert [p["threshold"] for p in points] == [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]
    assert points[-1]["auto_share"] <= points[0]["auto_share"]
    assert points[-1]["auto_accuracy"] >= points[0]["auto_accuracy"] > 0.9


def test_evaluate_on_a_fresh_synthetic_set():
    results = demo_results()
    fresh = generator(99).generate(600)
    for target, floor in (("category", 0.85), ("department", 0.7)):
        model = results[target].model
        texts, labels = labelled(fresh, target)
        metrics = evaluate(labels, model.proba_many(texts), model.labels)
        assert metrics.size == 600
        assert metrics.accuracy > floor and metrics.macro_f1 > floor - 0.1
        assert metrics.top3_accuracy > metrics.accuracy
        rows = {row.label: row for row in metrics.per_label}
        assert sum(row.support for row in rows.values()) == 600
        assert all(0 <= row.f1 <= 1 for row in rows.values())


def test_unknown_true_labels_count_as_misses():
    model = demo_results()["category"].model
    proba = model.proba_many(["路灯不亮", "路灯不亮"])
    metrics = evaluate(["01003", "99999"], proba, model.labels)
    assert metrics.accuracy == 0.5 and metrics.top3_accuracy == 0.5


def test_training_refuses_what_it_cannot_learn():
    with pytest.raises(InvalidInput, match="two different labels"):
        train_target(["路灯不亮"] * 20, ["01003"] * 20, "category")
    with pytest.raises(InvalidInput, match="at least 10"):
        train_target(["a", "b"], ["x", "y"], "category")
    with pytest.raises(InvalidInput, match="target"):
        train_target(["a"] * 10, ["x", "y"] * 5, "urgency")


def test_tiny_sets_and_two_labels_still_train():
    texts = ["路灯不亮了晚上很黑"] * 8 + ["垃圾堆在路边没人清理"] * 8
    result = train_target(texts, ["01003"] * 8 + ["06002"] * 8, "category")
    assert result.model.labels == ["01003", "06002"]
    assert result.model.proba("路灯坏了").argmax() == 0


# ---------------------------------------------------------------- predict and route


def test_predict_gives_category_department_and_top3(router):
    prediction = router.predict("您好，东湖区湖滨街道湖滨路上的路灯不亮了，晚上一片漆黑")
    assert prediction.category == "01003"
    assert prediction.department == "SZ-00"
    assert prediction.confidence > 0.8
    assert prediction.top3[0] == (prediction.department, prediction.confidence)
    probabilities = [p for _, p in prediction.top3]
    assert len(prediction.top3) == 3 and probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) <= 1.0 + 1e-9
    assert prediction.guess("category").top3[0][0] == "01003"
    assert re.fullmatch(
        r"category@\d{8}T\d{6}Z-[0-9a-f]{8},department@\d{8}T\d{6}Z-[0-9a-f]{8}",
        prediction.model_version,
    )
    assert router.predict("楼道里gas leak，燃气管道在漏气 please").category == "11002"
    batch = router.predict_many(["路灯不亮", "燃气泄漏了"])
    assert [p.category for p in batch] == [
        router.predict(t).category for t in ("路灯不亮", "燃气泄漏了")
    ]


def test_department_depends_on_the_district(router):
    east = router.predict("东湖区湖滨街道湖滨路垃圾桶满了溢出来好几天没清运")
    west = router.predict("西岭区枫桥街道枫桥路垃圾桶满了溢出来好几天没清运")
    assert (east.department, west.department) == ("HW-01", "HW-02")


def test_route_sends_unsure_predictions_to_the_manual_queue(router):
    sure = route(router.predict("西岭区松岭街道翠微路燃气管道泄漏了，有很浓的煤气味"), 0.85)
    assert sure.auto and sure.queue == "auto" and sure.label == "RQ-00"
    assert sure.target == "department" and "≥" in sure.reason

    vague = route(router.predict("您好，这边有个问题，麻烦派人来看看"), 0.85)
    assert not vague.auto and vague.queue == "manual"
    assert len(vague.candidates) == 3 and vague.candidates[0][0] == vague.label
    assert vague.confidence < 0.85

    prediction = router.predict("路灯不亮")
    assert not route(prediction, 1.0).auto
    assert route(prediction, 0.0).auto
    assert route(prediction, 0.5, target="category").label == "01003"
    with pytest.raises(InvalidInput):
        route(prediction, 1.5)


def test_router_without_models_says_how_to_get_one(tmp_path):
    with pytest.raises(NotFound, match="gridflow router train"):
        TextRouter.load(ModelStore(tmp_path, KEY))
