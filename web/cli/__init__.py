"""The ``gridflow`` command line. Each command group is a module with ``register(sub)``.

A command imports only its own module: ``gridflow router predict`` must not pay for the
server, SQLAlchemy and every other command's imports before it answers. ``gridflow --help``
(or an unknown command) imports them all to list them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from engine.errors import GridflowError

# Top-level command -> the module under web.cli that registers it.
COMMANDS = {
    "init": "init",
    "config": "config",
    "serve": "serve",
    "users": "users",
    "tokens": "users",
    "audit": "audit",
    "import": "importer",
    "history": "history",
    "router": "router",
    "rules": "rules",
    "db": "db",
    "simulate": "simulate",
    "calendar": "calendar",
    "backup": "backup",
    "restore": "backup",
    "knowledge": "knowledge",
    "views": "views",
}


def _modules(argv: list[str] | None) -> list[ModuleType]:
    first = next((word for word in argv or () if not word.startswith("-")), None)
    names = [COMMANDS[first]] if first in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [importlib.import_module(f"web.cli.{name}") for name in names]


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: only its command's module when it names one, else all."""
    parser = argparse.ArgumentParser(
        prog="gridflow", description="gridflow: grid-governance event dispatch engine"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in _modules(argv):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (GridflowError, LookupError, ValueError) as exc:  # a CityConfigError is a ValueError
        print(f"gridflow: error: {exc}", file=sys.stderr)
        return 2
