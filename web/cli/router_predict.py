"""`gridflow router evaluate|predict`: a stored model scored on a labelled file, and the
category and department it gives one text (web/cli/router.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.classifier.importer import read_labelled
from engine.errors import InvalidInput
from web.cli.router_common import emit, open_store


def cmd_evaluate(args: argparse.Namespace) -> int:
    from engine.classifier.metrics import evaluate, report_lines

    store = open_store(args.models_dir)
    version = args.version or store.live_versions().get(args.target)
    model, info = store.load(args.target, version)
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
        *report_lines(metrics),
        "",
        f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
        *(
            f"{r.label:<12} {r.precision:>9.3f} {r.recall:>7.3f} {r.f1:>6.3f} {r.support:>8}"
            for r in metrics.per_label
        ),
    ]
    emit(args, metrics.to_dict() | {"version": info.version, "target": args.target}, lines)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from engine.classifier.classifier import TextRouter
    from engine.classifier.decision import route

    versions = {}
    if args.version:
        for item in args.version:
            target, _, version = item.partition("@")
            versions[target] = version
    router = TextRouter.load(open_store(args.models_dir), versions)
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
    emit(args, data, lines)
    return 0
