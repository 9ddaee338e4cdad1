"""Benchmark: the text router's training time, prediction latency and synthetic accuracy.

Not a pytest test. Generates labelled complaints of the demo city with the synthetic
generator (engine/classifier/synthetic.py, fixed seeds), then measures:

- training time (wall and CPU) for 10,000 and 100,000 texts, per target, exactly as
  ``gridflow router train`` does it (vectorize, split, fit, calibrate, held-out metrics);
- prediction latency of single-text ``TextRouter.predict`` calls (both targets), median and
  p99, on models trained on 100,000 texts and loaded from verified files;
- held-out accuracy / macro-F1 / top-3 / calibration error, and on a fresh set generated
  with another seed, split by kind (Chinese, English-only, vague).

THE DATA IS SYNTHETIC: phrase-bank complaints are far more regular than real 12345 calls,
so these accuracies say the machinery works, not how it will do on a city's data (the 0.93
aim is for real data, which this repository does not have). Targets: training on 100,000
texts ≤ 60 s; prediction ≤ 2 ms median. Run: ``python tests/bench/bench_router.py``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sklearn  # noqa: E402

from engine.city.loader import read_city  # noqa: E402
from engine.classifier import ComplaintGenerator, ModelStore, TextRouter, evaluate  # noqa: E402
from engine.classifier.synthetic import labelled  # noqa: E402
from engine.classifier.training import TrainingConfig, train_target, training_metadata  # noqa: E402

SEED, FRESH_SEED = 20260302, 777
SIZES = (10_000, 100_000)
FRESH = 10_000
LATENCY_TEXTS = 5_000
TARGETS = ("category", "department")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def main() -> None:
    city = read_city(ROOT / "examples" / "demo_city")
    codes = [c.code for c in city.categories]
    load_before = os.getloadavg()
    corpus = ComplaintGenerator(city.units, city.departments, codes, seed=SEED).generate(max(SIZES))
    fresh = ComplaintGenerator(city.units, city.departments, codes, seed=FRESH_SEED).generate(FRESH)
    out: dict = {
        "data": (
            "SYNTHETIC complaints from engine/classifier/synthetic.py (demo city, 73 categories, "
            "25 departments); not real 12345 data: the 0.93 accuracy aim is for real data"
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "scikit_learn": sklearn.__version__,
            "load_average_at_start": [round(x, 2) for x in load_before],
        },
        "targets": {"train_100k_max_s": 60, "predict_median_max_ms": 2},
        "training": {},
    }
    config = TrainingConfig(seed=SEED)
    store = ModelStore(Path(tempfile.mkdtemp(prefix="bench-router-")), "bench-key")
    for size in SIZES:
        for target in TARGETS:
            texts, labels = labelled(corpus[:size], target)
            result, wall, cpu = _timed(lambda t=texts, y=labels, g=target: train_target(t, y, g))
            out["training"][f"{target}_{size}"] = {
                "texts": size,
                "labels": len(result.model.labels),
                "features": len(result.model.features),
                "wall_s": wall,
                "cpu_s": cpu,
                "held_out": result.metrics.summary(),
            }
            if size == max(SIZES):
                meta = training_metadata(result, config, {"kind": "bench"})
                info = store.save(result.model, meta, NOW)
                out["training"][f"{target}_{size}"]["file_mb"] = round(
                    info.metadata["size_bytes"] / 1e6, 1
                )
                out["training"][f"{target}_{size}"]["operating_points"] = (
                    result.metrics.operating_points
                )

    router, load_wall, _ = _timed(lambda: TextRouter.load(store))
    texts = [c.text for c in fresh[:LATENCY_TEXTS]]
    for text in texts[:200]:  # warm up
        router.predict(text)
    latencies = []
    for text in texts:
        start = time.perf_counter()
        router.predict(text)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    out["prediction"] = {
        "calls": len(latencies),
        "targets_per_call": len(router.models),
        "median_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(latencies[int(0.99 * len(latencies)) - 1], 3),
        "max_ms": round(latencies[-1], 3),
        "load_models_s": load_wall,
    }

    out["fresh_set"] = {"texts": FRESH, "seed": FRESH_SEED}
    for target in TARGETS:
        model = router.models[target]
        scores = {}
        for kind in ("all", "chinese", "english", "vague"):
            subset = [c for c in fresh if kind == "all" or c.kind == kind]
            sub_texts, sub_labels = labelled(subset, target)
            scores[kind] = evaluate(sub_labels, model.proba_many(sub_texts), model.labels).summary()
        out["fresh_set"][target] = scores

    out["meets_targets"] = {
        "train_100k_each_target": all(
            out["training"][f"{t}_{max(SIZES)}"]["wall_s"] <= 60 for t in TARGETS
        ),
        "predict_median": out["prediction"]["median_ms"] <= 2,
    }
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
