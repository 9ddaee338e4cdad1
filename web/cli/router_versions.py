"""`gridflow router list|activate|rollback`: the stored model versions and which are live,
an admin's decision recorded in the pin (web/cli/router.py)."""

from __future__ import annotations

import argparse

from engine.errors import InvalidInput, NotFound
from web.cli.router_common import clock_now, emit, named, open_store


def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(args.models_dir)
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
    emit(args, rows, lines)
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    """Make VERSION live: an admin's decision, recorded in the pin with who and why."""
    store = open_store(args.models_dir)
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
        store.live_versions() | {info.target: info.version}, args.by, reason, clock_now()
    )
    emit(args, pin, [f"live: {named(pin['active'])} ({reason}, by {args.by})"])
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    store = open_store(args.models_dir)
    pin = store.rollback(args.by, clock_now())
    emit(args, pin, [f"live: {named(pin['active'])} ({pin['reason']}, by {args.by})"])
    return 0
