"""`gridflow router train|evaluate|predict|list|activate|rollback|accuracy|generate`: the text
classifier (智能分拨).

Models go to ``GRIDFLOW_MODELS_DIR`` (default var/models), versioned and signed with
``GRIDFLOW_SECRET_KEY``; the server and these commands must share both.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

# Imports are light (no SQLAlchemy, no scikit-learn) so that `predict` starts in well under
# a second; each command imports what else it needs.
from engine.classifier.decision import DEFAULT_THRESHOLD
from engine.classifier.importer import read_labelled
from engine.classifier.model_files import ModelStore
from engine.errors import InvalidInput, NotFound
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
    from engine.classifier.feed import confirmed_labels
    from engine.db import make_engine, new_session

    settings = get_settings()
    db = make_engine(settings.database_url)
    texts, labels, corrected = [], [], 0
    try:
        with new_session(db) as session:
            for item in confirmed_labels(session, target):
                texts.append(item.text)
                labels.append(item.label)
                corrected += item.corrected
    finally:
        db.dispose()
    source = {"kind": "db", "confirmed_cases": len(texts), "corrected": corrected}
    return texts, labels, source


def _live_model(store: ModelStore, target: str) -> tuple[Any, str | None]:
    """The live model of ``target`` and its version (None, None without one)."""
    version = store.live_versions().get(target)
    if version is None:
        return None, None
    model, _ = store.load(target, version)
    return model, version


def cmd_train(args: argparse.Namespace) -> int:
    # scikit-learn takes a second or two to import: only the training command pays for it.
    from engine.classifier.gate import judge
    from engine.classifier.training import TrainingConfig, train_target, training_metadata

    if bool(args.from_db) == bool(args.file):
        raise InvalidInput("source", "give exactly one of --from-db or --file")
    targets = ["category", "department"] if args.target == "both" else [args.target]
    if args.file and len(targets) > 1:
        raise InvalidInput("target", "a file has one label column: --target category|department")
    config = TrainingConfig(
        seed=args.seed,
        folds=args.folds,
        search_sample=args.search_sample,
        time_split=args.time_split,
    )
    store, now = _store(args.out), _now()
    report = []
    for target in targets:
        if args.file:
            data = read_labelled(Path(args.file), args.text_column, args.label_column)
            texts, labels = data.texts, data.labels
            source = {"kind": "file", "file": Path(args.file).name, "skipped_rows": data.skipped}
        else:
            texts, labels, source = _from_db(target)
        live, live_version = _live_model(store, target)
        result = train_target(texts, labels, target, config)
        gate = judge(result, live, live_version)
        meta = training_metadata(result, config, source) | {"gate": gate.to_dict()}
        info = store.save(result.model, meta, now)
        active = store.live_versions()
        if gate.passed or args.force:
            why = "passed the gate" if gate.passed else "forced by an admin"
            store.set_pin(active | {target: info.version}, args.by, f"{why}: {gate.reason}", now)
            live_now = True
        else:
            if store.pin() is None:  # keep what runs: without a pin the newest would be live
                store.set_pin(active if live_version else {}, args.by, "kept", now)
            live_now = False
        report.append(info.metadata | {"activated": live_now})
        if not args.json:
            print("\n".join(_train_lines(target, info, result, gate, live_now, store)))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _train_lines(target, info, result, gate, live_now, store) -> list[str]:
    from engine.classifier.metrics import report_lines

    summary = result.metrics.summary()
    lines = [
        f"{target} model {info.version} -> {store.directory / info.metadata['model_file']}",
        f"  trained on {result.training_size} texts, {len(result.model.labels)} labels, "
        f"{len(result.model.features)} n-grams, {info.metadata['size_bytes'] / 1e6:.1f} MB; "
        f"settings {result.setting.name()} (chosen by cross-validation)",
        f"  k-fold (out of fold) accuracy {summary['accuracy']:.3f}  macro-F1 "
        f"{summary['macro_f1']:.3f}  top-3 {summary['top3_accuracy']:.3f}  "
        f"calibration error {summary['ece']:.3f}  (over {result.held_out_size} texts)",
    ]
    if result.time_split is not None:
        held = result.time_split.metrics
        lines.append(
            f"  time-ordered (trained on older, tested on the newest {held.size}): accuracy "
            f"{held.accuracy:.3f}  macro-F1 {held.macro_f1:.3f}"
        )
    if not result.converged:
        lines.append(f"  WARNING: the fit did not converge in {result.iterations} passes")
    lines += ["  " + line for line in report_lines(result.metrics)]
    state = "LIVE" if live_now else "NOT activated (the live model stays)"
    lines.append(f"  gate: {gate.reason} -> {state}")
    return lines


def _now():
    from engine.clock import SystemClock

    return SystemClock().now()


# ---------------------------------------------------------------------- evaluate


def cmd_evaluate(args: argparse.Namespace) -> int:
    from engine.classifier.metrics import evaluate, report_lines

    store = _store(args.models_dir)
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
    _emit(args, metrics.to_dict() | {"version": info.version, "target": args.target}, lines)
    return 0


# ---------------------------------------------------------------------- predict


def cmd_predict(args: argparse.Namespace) -> int:
    from engine.classifier.classifier import TextRouter
    from engine.classifier.decision import route

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
    store = _store(args.models_dir)
    live = store.live_versions()
    rows = []
    for info in store.versions():
        gate = info.metadata.get("gate") or {}
        rows.append(
            {
                "target": info.target,
                "version": info.version,
                "live": live.get(info.target) == info.version,
                "training_size": info.metadata.get("training_size"),
                "accuracy": info.metadata.get("metrics", {}).get("accuracy"),
                "gate_passed": gate.get("passed"),
            }
        )
    lines = [
        f"{'*' if r['live'] else ' '} {r['target']:<10} {r['version']}  trained on "
        f"{r['training_size']}, cross-validated accuracy {r['accuracy']}"
        + ("" if r["gate_passed"] is not False else "  (failed the gate)")
        for r in rows
    ] or ["no models"]
    if rows:
        lines.append("* live (the same for every process sharing the models directory)")
    _emit(args, rows, lines)
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    """Make VERSION live: an admin's decision, recorded in the pin with who and why."""
    store = _store(args.models_dir)
    target, _, version = args.version.rpartition("@")
    found = [i for i in store.versions() if i.version == version and target in ("", i.target)]
    if not found:
        raise NotFound(f"no model version {args.version} in {store.directory}")
    if len(found) > 1:
        raise InvalidInput("version", "both targets have this version: give TARGET@VERSION")
    info = found[0]
    store.load(info.target, info.version)  # refuses a file that fails its checks
    gate = info.metadata.get("gate") or {}
    if gate.get("passed") is False and not args.force:
        raise InvalidInput(
            "version",
            f"{info.target}@{info.version} failed the quality gate ({gate.get('reason')}); "
            "add --force to make it live anyway",
        )
    reason = args.reason or ("forced by an admin" if args.force else "activated by an admin")
    pin = store.set_pin(
        store.live_versions() | {info.target: info.version}, args.by, reason, _now()
    )
    _emit(args, pin, [f"live: {_named(pin['active'])} ({reason}, by {args.by})"])
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    store = _store(args.models_dir)
    pin = store.rollback(args.by, _now())
    _emit(args, pin, [f"live: {_named(pin['active'])} ({pin['reason']}, by {args.by})"])
    return 0


def _named(active: dict[str, str]) -> str:
    return ", ".join(f"{t}@{v}" for t, v in sorted(active.items())) or "no model"


def cmd_accuracy(args: argparse.Namespace) -> int:
    """Week by week: how often the live classifier's guess matched what people confirmed."""
    from datetime import timedelta

    from engine.classifier.accuracy import weekly_accuracy
    from engine.db import make_engine, new_session

    if args.weeks < 1:
        raise InvalidInput("weeks", "must be at least 1")
    settings = get_settings()
    store = ModelStore(settings.models_dir, settings.secret_key)
    expected = _expected_accuracy(store, args.target)
    now = _now()
    db = make_engine(settings.database_url)
    try:
        with new_session(db) as session:
            since = now - timedelta(weeks=args.weeks)
            report = weekly_accuracy(session, since, now, args.target, expected)
    finally:
        db.dispose()
    lines = [f"week of       cases  accuracy  ({args.target}, confirmed by people)"]
    lines += [
        f"{w.week}  {w.cases:>6}  "
        + (f"{w.accuracy:>8.1%}" if w.accuracy is not None else "       -")
        for w in report.weeks
    ] or ["no confirmed case the classifier was asked about in this period"]
    if report.warning:
        lines.append(f"WARNING: {report.warning}")
    _emit(args, report.to_dict(), lines)
    return 1 if report.warning and args.fail_on_drop else 0


def _expected_accuracy(store: ModelStore, target: str) -> float | None:
    """The live model's cross-validated accuracy, from its metadata (None if unknown)."""
    try:
        version = store.live_versions().get(target)
    except Exception:  # a refused pin: no expectation to compare with
        return None
    for info in store.versions(target):
        if info.version == version:
            return info.metadata.get("metrics", {}).get("accuracy")
    return None


def cmd_generate(args: argparse.Namespace) -> int:
    from engine.city.loader import read_city
    from engine.classifier.synthetic import ComplaintGenerator

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
    train.add_argument("--folds", type=int, default=5, help="k of the k-fold metrics")
    train.add_argument(
        "--search-sample", type=int, default=8000, help="texts the grid is scored on"
    )
    train.add_argument(
        "--time-split", type=float, default=0.2, help="newest share held out (texts oldest first)"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--force", action="store_true", help="make it live even if worse")
    train.add_argument("--by", default="cli", help="who trains (recorded in the pin)")
    train.add_argument("--json", action="store_true", help="print the metadata as JSON")
    train.set_defaults(func=_train_defaults)

    ev = commands.add_parser("evaluate", help="score a model on a labelled file")
    ev.add_argument("file")
    ev.add_argument("--text-column", default="text")
    ev.add_argument("--label-column", default="label")
    ev.add_argument("--target", choices=["category", "department"], default="category")
    ev.add_argument("--version", help="a model version (default: the live one)")
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

    activate = commands.add_parser("activate", help="make a stored model version live")
    activate.add_argument("version", help="VERSION or TARGET@VERSION (see `router list`)")
    activate.add_argument("--force", action="store_true", help="even one that failed the gate")
    activate.add_argument("--by", default="admin", help="who decides (recorded)")
    activate.add_argument("--reason")
    activate.add_argument("--models-dir")
    activate.add_argument("--json", action="store_true")
    activate.set_defaults(func=cmd_activate)

    rollback = commands.add_parser("rollback", help="back to the previously live versions")
    rollback.add_argument("--by", default="admin", help="who decides (recorded)")
    rollback.add_argument("--models-dir")
    rollback.add_argument("--json", action="store_true")
    rollback.set_defaults(func=cmd_rollback)

    acc = commands.add_parser("accuracy", help="weekly accuracy on human-confirmed cases")
    acc.add_argument("--weeks", type=int, default=8)
    acc.add_argument("--target", choices=["category", "department"], default="department")
    acc.add_argument("--fail-on-drop", action="store_true", help="exit 1 on a drop warning")
    acc.add_argument("--json", action="store_true")
    acc.set_defaults(func=cmd_accuracy)

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
