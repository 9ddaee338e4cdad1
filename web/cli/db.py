"""`gridflow db upgrade|current|revision`: schema migrations (Alembic) on SQLite or PostgreSQL."""

from __future__ import annotations

import argparse

from engine.db import make_engine
from engine.schema import current_revision, head_revision, new_revision, upgrade_schema
from engine.settings import get_settings


def cmd_upgrade(args: argparse.Namespace) -> int:
    db = make_engine(get_settings().database_url)
    upgrade_schema(db, args.revision)
    with db.connect() as connection:
        print(f"database at revision {current_revision(connection)}")
    return 0


def cmd_current(_: argparse.Namespace) -> int:
    with make_engine(get_settings().database_url).connect() as connection:
        current = current_revision(connection)
    head = head_revision()
    state = "up to date" if current == head else f"behind: run `gridflow db upgrade` (head {head})"
    print(f"database at revision {current or 'none'}: {state}")
    return 0 if current == head else 1


def cmd_revision(args: argparse.Namespace) -> int:
    """For developers: autogenerate a migration against a database that is at head."""
    db = make_engine(get_settings().database_url)
    upgrade_schema(db)
    new_revision(db, args.message)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="schema migrations").add_subparsers(dest="sub", required=True)
    upgrade = db.add_parser("upgrade", help="migrate the database to the newest schema")
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(func=cmd_upgrade)
    db.add_parser("current", help="show the schema revision; exit 1 if behind").set_defaults(
        func=cmd_current
    )
    revision = db.add_parser("revision", help="autogenerate a migration (developers)")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(func=cmd_revision)
