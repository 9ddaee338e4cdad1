"""`gridflow users create | list | disable | enable` and `gridflow tokens create | list |
revoke`: the administrator's way in when no one can sign in to the admin pages (or a person
must be locked out at once). Disabling a user ends their page sessions and revokes their
API tokens in the same transaction (engine.users.service.update_user)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from engine.city.directory import CityDirectory
from engine.clock import SystemClock
from engine.db import make_engine, new_session
from engine.errors import NotFound
from engine.schema import upgrade_schema
from engine.settings import get_settings
from engine.users.models import PERSON_ROLES, ApiToken, Role, User, UserCreate
from engine.users.service import (
    check_scope,
    create_user,
    issue_token,
    list_tokens,
    revoke_token,
    update_user,
)
from web.cli.calendar import cli_clock


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


@contextmanager
def _transaction() -> Iterator[tuple[Session, datetime]]:
    """A session in one transaction on the instance's database, and the instance's now."""
    settings = get_settings()
    db = make_engine(settings.database_url)
    upgrade_schema(db)
    try:
        with new_session(db) as session, session.begin():
            yield session, cli_clock(settings).now()
    finally:
        db.dispose()


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user named {username!r} (see `gridflow users list`)")
    return user


def _live_tokens(session: Session, now: datetime) -> Counter[int | None]:
    """How many usable API tokens each user holds."""
    return Counter(t.user_id for t in list_tokens(session) if _token_status(t, now) == "active")


def cmd_users_list(args: argparse.Namespace) -> int:
    with _transaction() as (session, now):
        query = select(User).order_by(col(User.username))
        if args.role:
            query = query.where(User.role == Role(args.role))
        users = list(session.exec(query))
        live = _live_tokens(session, now)
        if not args.all:
            users = [u for u in users if u.active]
        rows = [["ID", "USERNAME", "ROLE", "SCOPE", "STATUS", "TOKENS", "NAME"]]
        for user in users:
            rows.append([
                str(user.id), user.username, str(user.role), user.scope or "-",
                "active" if user.active else "disabled",
                str(live[user.id]), user.display_name or "",
            ])  # fmt: skip
    _table(rows)
    print(f"{len(rows) - 1} users" + ("" if args.all else " (active; --all for disabled too)"))
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    with _transaction() as (session, now):
        user = _user(session, args.username)
        assert user.id is not None
        revoked = _live_tokens(session, now)[user.id]
        if user.active == active:
            print(f"{user.username} is already {'active' if active else 'disabled'}")
            return 0
        city = CityDirectory.load(session)
        update_user(session, user.id, city, now=now, active=active)
    if active:
        print(f"enabled {user.username}: they can sign in again (old tokens stay revoked)")
    else:
        print(f"disabled {user.username}: page sessions ended, {revoked} API tokens revoked")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_users_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def _token_status(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def _day(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d") if at is not None else "never"


def cmd_tokens_list(args: argparse.Namespace) -> int:
    with _transaction() as (session, now):
        names = {u.id: u.username for u in session.exec(select(User))}
        tokens = [t for t in list_tokens(session) if args.all or _token_status(t, now) == "active"]
        rows = [["ID", "STATUS", "ROLE", "SCOPE", "USER", "LABEL", "CREATED", "EXPIRES"]]
        for token in tokens:
            rows.append([
                str(token.id), _token_status(token, now), str(token.role), token.scope or "-",
                names.get(token.user_id, "-"), token.label or "-", _day(token.created_at),
                _day(token.expires_at),
            ])  # fmt: skip
    _table(rows)
    print(f"{len(rows) - 1} tokens" + ("" if args.all else " (active; --all for the others)"))
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    with _transaction() as (session, now):
        for token_id in args.ids:
            revoke_token(session, token_id, now)  # all or none: one transaction
    print(f"revoked {len(args.ids)} tokens: " + ", ".join(str(i) for i in args.ids))
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
    listing = users.add_parser("list", help="list users, their status and live tokens")
    listing.add_argument("--all", action="store_true", help="disabled users too")
    listing.add_argument("--role", choices=[r.value for r in PERSON_ROLES])
    listing.set_defaults(func=cmd_users_list)
    disable = users.add_parser(
        "disable", help="lock a user out now: sessions ended, API tokens revoked"
    )
    disable.add_argument("username")
    disable.set_defaults(func=cmd_users_disable)
    enable = users.add_parser("enable", help="let a disabled user sign in again")
    enable.add_argument("username")
    enable.set_defaults(func=cmd_users_enable)

    tokens = sub.add_parser("tokens", help="manage API tokens")
    tokens_sub = tokens.add_subparsers(dest="sub", required=True)
    token = tokens_sub.add_parser("create", help="create a token; it is printed on the last line")
    token.add_argument("--role", required=True, choices=[r.value for r in PERSON_ROLES])
    token.add_argument("--scope", help="unit code, or department code for handlers")
    token.add_argument("--label", default="", help="who or what uses it")
    token.add_argument("--days", type=int, default=365, help="lifetime; 0 = never expires")
    token.set_defaults(func=cmd_tokens_create)
    listing = tokens_sub.add_parser("list", help="list API tokens (never their secret)")
    listing.add_argument("--all", action="store_true", help="revoked and expired ones too")
    listing.set_defaults(func=cmd_tokens_list)
    revoke = tokens_sub.add_parser("revoke", help="revoke tokens by id (see `tokens list`)")
    revoke.add_argument("ids", type=int, nargs="+", metavar="ID")
    revoke.set_defaults(func=cmd_tokens_revoke)
