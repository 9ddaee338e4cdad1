"""`gridflow init`: create the database and load a city configuration."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlmodel import select

from engine.city.directory import CityDirectory
from engine.city.loader import CityConfigError, other_city, store_city
from engine.clock import SystemClock
from engine.db import make_engine, new_session
from engine.dispatch.rule_versions import LiveRules
from engine.keys import ensure_key, key_path, read_key
from engine.schema import upgrade_schema
from engine.settings import SESSION_KEY_NAME, Settings, get_settings
from engine.users.models import Role, User, UserCreate
from engine.users.service import create_user
from web.cli.config import check_directory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _city_dir(args: argparse.Namespace) -> Path:
    if args.example:
        return EXAMPLES / args.example
    return Path(args.city) if args.city else get_settings().city_dir


def cmd_init(args: argparse.Namespace) -> int:
    settings = get_settings()
    directory = _city_dir(args)
    files = check_directory(directory)  # the whole directory, before anything is written
    for warning in files.warnings:
        print(f"warning: {warning}")
    db = make_engine(settings.database_url)
    upgrade_schema(db)
    now = SystemClock().now()
    created = []
    with new_session(db) as session, session.begin():
        other = other_city(session, files)
        if other is not None and not args.replace_city:
            raise CityConfigError(
                f"{settings.database_url} holds another city ({other}); refusing to load "
                f"{files.name} over it. Use a database of its own, or --replace-city."
            )
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
        rules = None
        if files.rules_text is not None:  # the city's dispatch table becomes the active one
            rules = LiveRules().activate(session, files.rules_text, city, "init", now)
    print(f"Initialised {files.name} from {directory} into {settings.database_url}")
    _session_key(settings)
    print(
        f"  {len(files.units)} units, {len(files.departments)} departments, "
        f"{len(files.categories)} categories, {len(created)} new users"
    )
    if rules is not None:
        state = "activated" if rules.changed else "already active"
        rows = len(rules.table.rules)
        print(f"  rules.toml: version {rules.table.version} {state} ({rows} rows)")
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


def _session_key(settings: Settings) -> None:
    """The instance's session-signing key: generated once, unless GRIDFLOW_SECRET_KEY is set."""
    path = key_path(settings.instance_dir, SESSION_KEY_NAME)
    if settings.secret_key and settings.secret_key != read_key(
        settings.instance_dir, SESSION_KEY_NAME
    ):
        print("  session key: GRIDFLOW_SECRET_KEY is set and signs page sessions")
        return
    _, generated = ensure_key(settings.instance_dir, SESSION_KEY_NAME)
    get_settings.cache_clear()  # this process's settings read the new key from now on
    state = "generated" if generated else "kept"
    print(f"  session key: {state} {path} (mode 0600; signs page sessions)")


def register(sub: argparse._SubParsersAction) -> None:
    init = sub.add_parser("init", help="create the database and load a city configuration")
    init.add_argument("--example", help="an example city under examples/, e.g. demo_city")
    init.add_argument("--city", help="a city configuration directory (default GRIDFLOW_CITY_DIR)")
    init.add_argument(
        "--replace-city",
        action="store_true",
        help="load this city even though the database holds a different one",
    )
    init.set_defaults(func=cmd_init)
