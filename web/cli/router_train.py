"""`gridflow router train`: a versioned model from the city's confirmed cases or a labelled
file, judged by the quality gate against the live one (web/cli/router.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.classifier.importer import read_labelled
from engine.classifier.model_files import ModelStore
from engine.errors import InvalidInput
from engine.settings import get_settings
from web.cli.router_common import clock_now, open_store


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
    store, now = open_store(args.out), clock_now()
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


def train_defaults(args: argparse.Namespace) -> int:
    if args.target is None:
        args.target = "both" if args.from_db else "category"
    return cmd_train(args)
