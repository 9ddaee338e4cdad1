"""The ``gridflow`` command line: init, serve, users, tokens."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from engine.city.directory import CityDirectory
from engine.city.loader import CityConfigError, read_city, store_city
from engine.clock import SystemClock
from engine.db import create_schema, make_engine, new_session
from engine.errors import GridflowError
from engine.settings import get_settings
from engine.users.models import PERSON_ROLES, Role, User, UserCreate
from engine.users.service import check_scope, create_user, issue_token

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _city_dir(args: argparse.Namespace) -> Path:
    if args.example:
        return EXAMPLES / args.example
    return Path(args.city) if args.city else get_settings().city_dir


def cmd_init(args: argparse.Namespace) -> int:
    settings = get_settings()
    directory = _city_dir(args)
    files = read_city(directory)
    db = make_engine(settings.database_url)
    create_schema(db)
    now = SystemClock().now()
    created = []
    with new_session(db) as session, session.begin():
        store_city(session, files)
        session.flush()
        city = CityDirectory.load(session)
        for row in files.users:
            if session.exec(select(User).where(User.username == row["username"])).first():
                continue
            password = row.get("password") or files.demo_password
            if not password:
                raise CityConfigError(f"users.toml: {row['username']}: no password")
            data = UserCreate(
                username=row["username"],
                display_name=row.get("name", ""),
                role=Role(row["role"]),
                scope=row.get("scope"),
                password=password,
            )
            create_user(session, data, city, now)
            created.append(data)
    print(f"Initialised {files.name} from {directory} into {settings.database_url}")
    print(
        f"  {len(files.units)} units, {len(files.departments)} departments, "
        f"{len(files.categories)} categories, {len(created)} new users"
    )
    if files.users:
        print("Log in with one of these users (password: see users.toml):")
        for row in files.users[:12]:
            print(f"  {row['username']:<22} {row['role']:<12} {row.get('scope', '')}")
        if len(files.users) > 12:
            print(f"  … and {len(files.users) - 12} more in {directory / 'users.toml'}")
        print(
            "Get an API token: curl -X POST http://127.0.0.1:8000/api/v1/auth/token "
            "-H 'Content-Type: application/json' "
            '-d \'{"username": "operator", "password": "…"}\''
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("web.app:create_app", factory=True, host=args.host, port=args.port)
    return 0


def _city(db_url: str) -> CityDirectory:
    db = make_engine(db_url)
    create_schema(db)
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
    print(f"token for role {role} scope {scope} (shown once; store it safely):", file=sys.stderr)
    print(token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create the database and load a city configuration")
    init.add_argument("--example", help="an example city under examples/, e.g. demo_city")
    init.add_argument("--city", help="a city configuration directory (default GRIDFLOW_CITY_DIR)")
    init.set_defaults(func=cmd_init)

    serve = sub.add_parser("serve", help="serve the API and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CityConfigError, GridflowError, LookupError, ValueError) as exc:
        print(f"gridflow: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
