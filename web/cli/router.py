"""`gridflow router train|evaluate|predict|list|generate`: the text router (智能分拨).

Models go to ``GRIDFLOW_MODELS_DIR`` (default var/models), versioned and signed with
``GRIDFLOW_SECRET_KEY``; the server and these commands must share both.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from engine.city.loader import read_city
from engine.classifier import (
    DEFAULT_THRESHOLD,
    ComplaintGenerator,
    ModelStore,
    TextRouter,
    closed_case_labels,
    evaluate,
    read_labelled,
    route,
)
from engine.clock import SystemClock
from engine.db import make_engine, new_session
from engine.errors import InvalidInput
from engine.settings import get_settings


def _store(directory: str | None) -> ModelStore:
    settings = get_settings()
    return ModelStore(Path(directory) if directory else settings.models_dir, settings.secret_key)


def _emit(args: argparse.Namespace, data: Any, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print("\n".join(lines))


# ---------------------------------------------------------------------- train


def _from_db(target: str) -> tuple[list[str], list[str], dict[str, Any]]:
    settings = get_settings()
    db = make_engine(settings.database_url)
    texts, labels, corrected = [], [], 0
    try:
        with new_session(db) as session:
            for item in closed_case_labels(session, target):
                texts.append(item.text)
                labels.append(item.label)
                corrected += item.corrected
    finally:
        db.dispose()
    return texts, labels, {"kind": "db", "closed_cases": len(texts), "corrected": corrected}


def cmd_train(args: argparse.Namespace) -> int:
    # scikit-learn takes a second or two to import: only the training command pays for it.
    from engine.classifier.training import TrainingConfig, train_target, training_metadata

    if bool(args.from_db) == bool(args.file):
        raise InvalidInput("source", "give exactly one of --from-db or --file")
    targets = ["category", "department"] if args.target == "both" else [args.target]
    if args.file and len(targets) > 1:
        raise InvalidInput("target", "a file has one label column: --target category|department")
    config = TrainingConfig(test_size=args.test_size, seed=args.seed)
    store, now = _store(args.out), SystemClock().now()
    report = []
    for target in targets:
        if args.file:
            data = read_labelled(Path(args.file), args.text_column, args.label_column)
            texts, labels = data.texts, data.labels
            source = {"kind": "file", "file": Path(args.file).name, "skipped_rows": data.skipped}
        else:
            texts, labels, source = _from_db(target)
        result = train_target(texts, labels, target, config)
        info = store.save(result.model, training_metadata(result, config, source), now)
        report.append(info.metadata)
        summary = result.metrics.summary()
        lines = [
            f"{target} model {info.version} -> {store.directory / info.metadata['model_file']}",
            f"  trained on {result.training_size} texts, {len(result.model.labels)} labels; "
            f"held out {result.held_out_size}",
            f"  held-out accuracy {summary['accuracy']:.3f}  macro-F1 {summary['macro_f1']:.3f}"
            f"  top-3 {summary['top3_accuracy']:.3f}  calibration error {summary['ece']:.3f}",
            "  threshold  auto share  auto accuracy",
            *(
                f"  {p['threshold']:>9.2f}  {p['auto_share']:>10.1%}  {p['auto_accuracy']:>13.1%}"
                for p in result.metrics.operating_points
            ),
        ]
        if not args.json:
            print("\n".join(lines))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


# ---------------------------------------------------------------------- evaluate


def cmd_evaluate(args: argparse.Namespace) -> int:
    store = _store(args.models_dir)
    model, info = store.load(args.target, args.version)
    data = read_labelled(Path(args.file), args.text_column, args.label_column)
    if not data.texts:
        raise InvalidInput("file", f"{args.file}: no labelled rows")
    metrics = evaluate(data.labels, model.proba_many(data.texts), model.labels)
    summary = metrics.summary()
    lines = [
        f"{args.target} model {info.version} on {metrics.size} texts of {Path(args.file).name}"
        + (f" ({data.skipped} rows skipped)" if data.skipped else ""),
        f"accuracy      {summary['accuracy']:.4f}",
        f"macro-F1      {summary['macro_f1']:.4f}",
        f"top-3         {summary['top3_accuracy']:.4f}",
        f"calibration   {summary['ece']:.4f} (expected calibration error)",
        "",
        f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
        *(
            f"{r.label:<12} {r.precision:>9.3f} {r.recall:>7.3f} {r.f1:>6.3f} {r.support:>8}"
            for r in metrics.per_label
        ),
    ]
    _emit(args, metrics.to_dict() | {"version": info.version, "target": args.target}, lines)
    return 0


# ---------------------------------------------------------------------- predict


def cmd_predict(args: argparse.Namespace) -> int:
    versions = {}
    if args.version:
        for item in args.version:
            target, _, version = item.partition("@")
            versions[target] = version
    router = TextRouter.load(_store(args.models_dir), versions)
    prediction = router.predict(args.text)
    decision = route(prediction, args.threshold)
    data = {
        "category": prediction.category,
        "department": prediction.department,
        "confidence": round(prediction.confidence, 4),
        "top3": [[label, round(p, 4)] for label, p in prediction.top3],
        "model_version": prediction.model_version,
        "route": decision.queue,
        "guesses": {
            t: {"label": g.label, "confidence": round(g.confidence, 4), "top3": g.top3}
            for t, g in prediction.guesses.items()
        },
    }
    lines = [
        f"{t:<10} {g.label:<10} {g.confidence:.2f}   top 3: "
        + ", ".join(f"{label} {p:.2f}" for label, p in g.top3)
        for t, g in prediction.guesses.items()
    ]
    lines += [
        f"route      {decision.queue} ({decision.reason})",
        f"model      {router.model_version}",
    ]
    _emit(args, data, lines)
    return 0


# ---------------------------------------------------------------------- list, generate


def cmd_list(args: argparse.Namespace) -> int:
    infos = _store(args.models_dir).versions()
    rows = [
        {
            "target": i.target,
            "version": i.version,
            "training_size": i.metadata.get("training_size"),
            "accuracy": i.metadata.get("metrics", {}).get("accuracy"),
        }
        for i in infos
    ]
    lines = [
        f"{r['target']:<10} {r['version']}  trained on {r['training_size']}, "
        f"held-out accuracy {r['accuracy']}"
        for r in rows
    ] or ["no models"]
    _emit(args, rows, lines)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    city = read_city(Path(args.city) if args.city else get_settings().city_dir)
    generator = ComplaintGenerator(
        city.units, city.departments, [c.code for c in city.categories], seed=args.seed
    )
    with open(args.out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category", "department", "grid"])
        for item in generator.generate(args.count):
            writer.writerow([item.text, item.category, item.department, item.unit])
    print(f"wrote {args.count} synthetic complaints to {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    router = sub.add_parser("router", help="the text router (smart dispatch from complaint text)")
    commands = router.add_subparsers(dest="sub", required=True)

    train = commands.add_parser("train", help="train a versioned model from cases or a file")
    train.add_argument("--from-db", action="store_true", help="the city's closed cases")
    train.add_argument("--file", help="a .csv or .xlsx file with a text and a label column")
    train.add_argument("--text-column", default="text")
    train.add_argument("--label-column", default="label")
    train.add_argument("--target", choices=["category", "department", "both"], default=None)
    train.add_argument("--out", help="models directory (default GRIDFLOW_MODELS_DIR)")
    train.add_argument("--test-size", type=float, default=0.2, help="held-out share")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--json", action="store_true", help="print the metadata as JSON")
    train.set_defaults(func=_train_defaults)

    ev = commands.add_parser("evaluate", help="score a model on a labelled file")
    ev.add_argument("file")
    ev.add_argument("--text-column", default="text")
    ev.add_argument("--label-column", default="label")
    ev.add_argument("--target", choices=["category", "department"], default="category")
    ev.add_argument("--version", help="a model version (default: the newest)")
    ev.add_argument("--models-dir")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evaluate)

    predict = commands.add_parser("predict", help="category and department for a text")
    predict.add_argument("text")
    predict.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    predict.add_argument("--version", action="append", help="TARGET@VERSION (repeatable)")
    predict.add_argument("--models-dir")
    predict.add_argument("--json", action="store_true")
    predict.set_defaults(func=cmd_predict)

    listing = commands.add_parser("list", help="the stored model versions")
    listing.add_argument("--models-dir")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)

    gen = commands.add_parser("generate", help="write synthetic labelled complaints (CSV)")
    gen.add_argument("--count", type=int, default=1000)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--city", help="city directory (default GRIDFLOW_CITY_DIR)")
    gen.add_argument("--out", required=True)
    gen.set_defaults(func=cmd_generate)


def _train_defaults(args: argparse.Namespace) -> int:
    if args.target is None:
        args.target = "both" if args.from_db else "category"
    return cmd_train(args)
