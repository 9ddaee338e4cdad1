"""The database the suite runs on: SQLite files by default, PostgreSQL when
GRIDFLOW_TEST_DB=postgresql (a throw-away server, or GRIDFLOW_TEST_PG_URL's). Each test gets
a fresh database copied from a template that holds the demo city."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.db import make_engine, new_session
from engine.schema import upgrade_schema

BACKEND = os.environ.get("GRIDFLOW_TEST_DB", "sqlite")
if BACKEND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"GRIDFLOW_TEST_DB must be sqlite or postgresql, not {BACKEND!r}")

_counter = itertools.count()
_server = None
_template: str | None = None
_workdir = Path(tempfile.mkdtemp(prefix="gridflow-tests-"))
atexit.register(shutil.rmtree, _workdir, ignore_errors=True)


def _pg_admin_url() -> str:
    global _server
    given = os.environ.get("GRIDFLOW_TEST_PG_URL")
    if given:
        return given
    if _server is None:
        from pg_server import PgServer  # tests/ is on sys.path

        _server = PgServer()
        atexit.register(_server.stop)
    return _server.url()


def _pg_execute(*statements: str) -> None:
    engine = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _build_template(fill: Callable[[str], None]) -> str:
    if BACKEND == "sqlite":
        path = _workdir / "template.db"
        fill(f"sqlite:///{path}")
        return str(path)
    _pg_execute("DROP DATABASE IF EXISTS gridflow_template", "CREATE DATABASE gridflow_template")
    fill(str(make_url(_pg_admin_url()).set(database="gridflow_template")))
    return "gridflow_template"


def fresh_database(fill: Callable[[str], None]) -> str:
    """A new database holding what ``fill`` put in the template (built on first call)."""
    global _template
    if _template is None:
        _template = _build_template(fill)
    n = next(_counter)
    if BACKEND == "sqlite":
        path = _workdir / f"test-{os.getpid()}-{n}.db"
        shutil.copy(_template, path)
        return f"sqlite:///{path}"
    name = f"gridflow_test_{os.getpid()}_{n}"
    _pg_execute(f"CREATE DATABASE {name} TEMPLATE {_template}")
    return str(make_url(_pg_admin_url()).set(database=name))


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    else:
        _pg_execute(f"DROP DATABASE IF EXISTS {parsed.database} WITH (FORCE)")


def demo_city_fill(demo_city: Path) -> Callable[[str], None]:
    def fill(url: str) -> None:
        from engine.city.loader import read_city, store_city

        db = make_engine(url)
        upgrade_schema(db)
        with new_session(db) as session, session.begin():
            store_city(session, read_city(demo_city))
        db.dispose()

    return fill
