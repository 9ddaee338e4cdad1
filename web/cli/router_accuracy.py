"""`gridflow router accuracy`: week by week, how often the live classifier's guess matched
what people confirmed, and a warning when it drops below the model's own measure."""

from __future__ import annotations

import argparse

from engine.classifier.model_files import ModelStore
from engine.errors import InvalidInput
from engine.settings import get_settings
from web.cli.router_common import clock_now, emit


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
    now = clock_now()
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
    emit(args, report.to_dict(), lines)
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
