"""The ``gridflow`` command line. Each command group is a module with ``register(sub)``."""

from __future__ import annotations

import argparse
import sys

from engine.city.loader import CityConfigError
from engine.errors import GridflowError
from web.cli import (
    audit,
    backup,
    calendar,
    config,
    db,
    history,
    importer,
    init,
    knowledge,
    router,
    rules,
    serve,
    simulate,
    users,
    views,
)

COMMANDS = [init, config, serve, users, audit, importer, history, router, rules, db, simulate]
COMMANDS += [calendar, backup]
COMMANDS += [knowledge]
COMMANDS += [views]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridflow", description="gridflow: grid-governance event dispatch engine"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CityConfigError, GridflowError, LookupError, ValueError) as exc:
        print(f"gridflow: error: {exc}", file=sys.stderr)
        return 2
