"""`gridflow users create` and `gridflow tokens create`."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta

from engine.city.directory import CityDirectory
from engine.clock import SystemClock
from engine.db import make_engine, new_session
from engine.schema import upgrade_schema
from engine.settings import get_settings
from engine.users.models import PERSON_ROLES, Role, UserCreate
from engine.users.service import check_scope, create_user, issue_token


def _city(db_url: str) -> CityDirectory:
    db = make_engine(db_url)
    upgrade_schema(db)
    with new_session(db) as session:
        return CityDirectory.load(session)


def cmd_users_create(args: argparse.Namespace) -> int:
    settings = get_settings()
    password = args.password or getpass.getpass("Password (8+ characters): ")
    data = UserCreate(
        username=args.username,
        display_name=args.name or "",
        role=Role(args.role),
        scope=args.scope,
        password=password,
    )
    city = _city(settings.database_url)
    db = make_engine(settings.database_url)
    with new_session(db) as session, session.begin():
        user = create_user(session, data, city, SystemClock().now())
        print(f"created user {user.username} ({user.role}, scope {user.scope})")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    settings = get_settings()
    role = Role(args.role)
    city = _city(settings.database_url)
    scope = check_scope(role, args.scope, city)
    db = make_engine(settings.database_url)
    ttl = timedelta(days=args.days) if args.days else None
    with new_session(db) as session, session.begin():
        token = issue_token(
            session, role=role, scope=scope, now=SystemClock().now(), ttl=ttl, label=args.label
        )
    print(f"token for role {role} scope {scope} (shown once):", file=sys.stderr, flush=True)
    print(token)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="manage users").add_subparsers(dest="sub", required=True)
    create = users.add_parser("create", help="create a user")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=[r.value for r in PERSON_ROLES])
    create.add_argument("--scope", help="unit code, or department code for handlers")
    create.add_argument("--name", help="display name")
    create.add_argument("--password", help="omit to be asked")
    create.set_defaults(func=cmd_users_create)

    tokens = sub.add_parser("tokens", help="manage API tokens")
    tokens_sub = tokens.add_subparsers(dest="sub", required=True)
    token = tokens_sub.add_parser("create", help="create a token; it is printed on the last line")
    token.add_argument("--role", required=True, choices=[r.value for r in PERSON_ROLES])
    token.add_argument("--scope", help="unit code, or department code for handlers")
    token.add_argument("--label", default="", help="who or what uses it")
    token.add_argument("--days", type=int, default=365, help="lifetime; 0 = never expires")
    token.set_defaults(func=cmd_tokens_create)
