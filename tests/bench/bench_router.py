"""Benchmark: the text classifier against a plain baseline, and its cost.

Not a pytest test. Two parts, printed as one JSON document:

1. **Accuracy against the baseline, same split, same run.** A fixed stratified 80/20 split
   (seed 20260302) of the labelled texts; for each target (category, department) the
   classifier is trained on the 80 % exactly as ``gridflow router train`` does it (settings
   by cross-validation, calibration out of fold, refit) and a plain character 1–3-gram
   TF-IDF + ``LinearSVC`` (scikit-learn defaults, sublinear tf) is trained on the same 80 %;
   both are scored on the same 20 % (accuracy, macro-F1), with the classifier's reliability
   table and routed share per threshold.

   ``--data FILE.csv|xlsx`` runs this on a city's own export (columns ``text``, ``category``,
   ``department``; rows oldest first; other names with ``--text-column`` etc.). Without it,
   the texts are SYNTHETIC (engine/classifier/synthetic.py, the demo city): far more regular
   than real 12345 calls, so those figures say the machinery works, not how it does on a
   city's data.

2. **Cost** (synthetic, skipped with ``--data`` unless ``--cost``): training time for
   ``--cost-size`` texts (default 100,000) per target, model file size, memory a process
   holds for both models (tracemalloc while loading), single-text prediction latency
   (median, p99 over 5,000 calls, both targets), and the start-up of ``gridflow router
   predict`` in a fresh process.

Targets (issue 23): train 100k ≤ 60 s, model ≤ 5 MB on disk and ≤ 30 MB in memory, one
prediction ≤ 5 ms p99, CLI predict ≤ 1 s. Run: ``python tests/bench/bench_router.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from engine.city.loader import read_city  # noqa: E402
from engine.classifier import ComplaintGenerator, ModelStore, TextRouter, evaluate  # noqa: E402
from engine.classifier.importer import read_columns  # noqa: E402
from engine.classifier.metrics import report_lines  # noqa: E402
from engine.classifier.training import TrainingConfig, train_target, training_metadata  # noqa: E402

SEED, FRESH_SEED = 20260302, 777
LATENCY_TEXTS = 5_000
TARGETS = ("category", "department")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def _synthetic(count: int, seed: int) -> dict[str, list[str]]:
    city = read_city(ROOT / "examples" / "demo_city")
    codes = [c.code for c in city.categories]
    complaints = ComplaintGenerator(city.units, city.departments, codes, seed=seed).generate(count)
    return {
        "text": [c.text for c in complaints],
        "category": [c.category for c in complaints],
        "department": [c.department for c in complaints],
    }


def _baseline(train_x, train_y, test_x, test_y) -> dict:
    """Plain char 1-3-gram TF-IDF + LinearSVC, scikit-learn defaults."""
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    started = time.perf_counter()
    classifier = LinearSVC().fit(vectorizer.fit_transform(train_x), train_y)
    predicted = classifier.predict(vectorizer.transform(test_x))
    labels = sorted(set(test_y) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    onehot = np.zeros((len(test_x), len(labels)))
    onehot[np.arange(len(test_x)), [index[p] for p in predicted]] = 1.0
    summary = evaluate(list(test_y), onehot, labels).summary()
    return {
        "accuracy": summary["accuracy"],
        "macro_f1": summary["macro_f1"],
        "features": len(vectorizer.vocabulary_),
        "train_wall_s": round(time.perf_counter() - started, 2),
    }


def compare(data: dict[str, list[str]], config: TrainingConfig) -> dict:
    """Classifier and baseline on the same stratified 80/20 split, per target."""
    out = {}
    order = np.arange(len(data["text"]))
    for target in TARGETS:
        labels = data[target]
        counts = {label: labels.count(label) for label in set(labels)}
        stratify = labels if min(counts.values()) >= 2 else None
        train_i, test_i = train_test_split(
            order, test_size=0.2, random_state=SEED, stratify=stratify
        )
        train_i = np.sort(train_i)  # keep the file's (time) order for the time split
        train_x = [data["text"][i] for i in train_i]
        train_y = [labels[i] for i in train_i]
        test_x = [data["text"][i] for i in test_i]
        test_y = [labels[i] for i in test_i]
        result, wall, _ = _timed(
            lambda x=train_x, y=train_y, t=target: train_target(x, y, t, config)
        )
        metrics = evaluate(test_y, result.model.proba_many(test_x), result.model.labels)
        out[target] = {
            "train": len(train_x),
            "test": len(test_x),
            "labels": len(result.model.labels),
            "classifier": metrics.summary()
            | {
                "setting": result.setting.name(),
                "train_wall_s": wall,
                "cross_validated": result.metrics.summary(),
                "max_band_gap": metrics.max_band_gap,
            },
            "baseline_tfidf_linearsvc": _baseline(train_x, train_y, test_x, test_y),
            "reliability": metrics.reliability,
            "operating_points": metrics.operating_points,
        }
        print(f"\n{target}: classifier vs baseline on the same split", file=sys.stderr)
        print("\n".join(report_lines(metrics)), file=sys.stderr)
    return out


def cost(size: int, config: TrainingConfig) -> dict:
    corpus = _synthetic(size, SEED)
    fresh = _synthetic(LATENCY_TEXTS, FRESH_SEED)["text"]
    store = ModelStore(Path(tempfile.mkdtemp(prefix="bench-router-")), "bench-key")
    out: dict = {"texts": size, "training": {}}
    for target in TARGETS:
        result, wall, cpu = _timed(
            lambda t=target: train_target(corpus["text"], corpus[t], t, config)
        )
        info = store.save(result.model, training_metadata(result, config, {"kind": "bench"}), NOW)
        out["training"][target] = {
            "labels": len(result.model.labels),
            "features": len(result.model.features),
            "setting": result.setting.name(),
            "converged": result.converged,
            "wall_s": wall,
            "cpu_s": cpu,
            "file_mb": round(info.metadata["size_bytes"] / 1e6, 2),
            "cross_validated": result.metrics.summary(),
        }
    store.set_pin(store.live_versions(), "bench", "bench", NOW)
    tracemalloc.start()
    router = TextRouter.load(store)
    out["memory_mb_both_models"] = round(tracemalloc.get_traced_memory()[0] / 1e6, 1)
    tracemalloc.stop()
    for text in fresh[:200]:  # warm up
        router.predict(text)
    latencies, cpu = [], []
    for text in fresh:
        start, start_cpu = time.perf_counter(), time.thread_time()
        router.predict(text)
        latencies.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    latencies.sort()
    cpu.sort()
    out["prediction"] = {
        "calls": len(latencies),
        "targets_per_call": len(router.models),
        "median_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(latencies[int(0.99 * len(latencies)) - 1], 3),
        "max_ms": round(latencies[-1], 3),
        "cpu_p99_ms": round(cpu[int(0.99 * len(cpu)) - 1], 3),  # without waits for a core
    }
    out["cli_predict_start_s"] = _cli_start(store.directory)
    return out


def _cli_start(models: Path) -> float:
    """Median wall time of `gridflow router predict` in a fresh process (3 runs)."""
    env = os.environ | {"GRIDFLOW_MODELS_DIR": str(models), "GRIDFLOW_SECRET_KEY": "bench-key"}
    entry = "import sys; from web.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", entry, "router", "predict", "路灯不亮了"]
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        runs.append(time.perf_counter() - started)
    return round(statistics.median(runs), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="a city's labelled export (.csv or .xlsx)")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--category-column", default="category")
    parser.add_argument("--department-column", default="department")
    parser.add_argument("--compare-size", type=int, default=10_000, help="synthetic texts")
    parser.add_argument("--cost-size", type=int, default=100_000)
    parser.add_argument("--cost", action="store_true", help="measure cost also with --data")
    parser.add_argument("--no-cost", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()
    config = TrainingConfig(seed=SEED)
    out: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "scikit_learn": sklearn.__version__,
            "load_average_at_start": [round(x, 2) for x in load_before],
        },
        "targets": {
            "train_100k_max_s": 60,
            "file_max_mb": 5,
            "memory_max_mb": 30,
            "predict_p99_max_ms": 5,
            "cli_start_max_s": 1,
        },
    }
    if args.data:
        columns = (args.text_column, args.category_column, args.department_column)
        table, skipped = read_columns(Path(args.data), columns)
        data = {"text": table[columns[0]], "category": table[columns[1]]}
        data["department"] = table[columns[2]]
        out["data"] = {"file": Path(args.data).name, "rows": len(data["text"]), "skipped": skipped}
    else:
        data = _synthetic(args.compare_size, SEED)
        out["data"] = (
            f"SYNTHETIC: {args.compare_size} complaints of the demo city "
            "(engine/classifier/synthetic.py); not real 12345 data"
        )
    out["comparison"] = compare(data, config)
    if not args.no_cost and (not args.data or args.cost):
        out["cost"] = cost(args.cost_size, config)
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
