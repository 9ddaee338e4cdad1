"""The stores `bench_reads.py` measures: a synthetic history of the demo city imported into a
database, brought to the current schema, with 10,000 knowledge articles (not a test).

For each size: ``gridflow history generate`` (a span ending yesterday), ``gridflow import
history`` into a fresh database (the import keeps the read models batch by batch, so no
rebuild follows it), ``gridflow db upgrade`` for a kept store (and ``views rebuild`` when
that moved its schema revision: new read-model tables start empty), and the articles.
Files are kept under the bench directory (default var/bench): a store is made once and taken
from there with ``--reuse`` (``--postgres``: a PostgreSQL cluster of tests/pg_server.py under
the store's directory, started for the work and stopped after it).

Seeding alone (a 1M import takes a long while; start it early, measure later with
``bench_reads.py --reuse``)::

    python tests/bench/reads_store.py --sizes 100000:37,1000000 [--reuse] [--postgres]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
if str(ROOT) not in sys.path:
    sys.path[:0] = [str(ROOT), str(TESTS)]

from sqlalchemy import text  # noqa: E402

from engine.db import make_engine  # noqa: E402

CITY = ROOT / "examples" / "demo_city"
ARTICLES, ARTICLE_SEED = 10_000, 24
DEFAULT_DIR = ROOT / "var" / "bench"


@dataclass(frozen=True)
class Size:
    """A store's size: ``SIZE`` or ``SIZE:DAYS`` (default a year)."""

    cases: int
    days: int = 365

    @classmethod
    def parse(cls, text: str) -> Size:
        cases, _, days = text.partition(":")
        return cls(int(cases), int(days or 365))

    @property
    def suffix(self) -> str:
        """The span in the store's file names (none for a year, as before)."""
        return "" if self.days == 365 else f"-{self.days}d"


def gridflow(*args: str, env: dict[str, str]) -> str:
    """Run the CLI of this checkout; its standard output."""
    command = [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]
    done = subprocess.run(
        [*command, *args], cwd=ROOT, env=os.environ | env, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):  # 1: some records were refused (reported)
        raise RuntimeError(f"gridflow {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout


def cli_env(url: str, workdir: Path) -> dict[str, str]:
    return {
        "GRIDFLOW_DATABASE_URL": url,
        "GRIDFLOW_INSTANCE_DIR": str(workdir / "instance"),
        "GRIDFLOW_CITY_DIR": str(CITY),
    }


def history(directory: Path, size: Size, end: date) -> Path:
    """The generated history file (made once; its cases filed in the last three days open)."""
    path = directory / f"history-{size.cases}{size.suffix}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        plan = ["--cases", str(size.cases), "--days", str(size.days), "--end", end.isoformat()]
        gridflow("history", "generate", str(partial), *plan, "--quiet",
                 env={"GRIDFLOW_CITY_DIR": str(CITY)})  # fmt: skip
        partial.rename(path)
    return path


def revision(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        engine.dispose()


def imported(workdir: Path, url: str, source: Path, reuse: bool) -> dict[str, Any]:
    """The history in a database of the demo city: the import's summary line and rate."""
    done = workdir / "imported.json"
    if reuse and done.exists():
        return json.loads(done.read_text()) | {"reused": True}
    env = cli_env(url, workdir)
    gridflow("init", "--example", "demo_city", env=env)
    started = time.perf_counter()
    summary = gridflow("import", "history", str(source), "--quiet", env=env).strip()
    seconds = time.perf_counter() - started
    found = re.search(r"(\d+) cases imported", summary)
    landed = int(found[1]) if found else 0
    result: dict[str, Any] = {
        "summary": summary.splitlines()[0] if summary else "",
        "seconds_with_startup": round(seconds, 1),
        "cases_per_s_with_startup": round(landed / seconds),
        "load_after": os.getloadavg(),
        "schema": revision(url),  # the import kept the read models: no rebuild
    }
    done.write_text(json.dumps(result))
    return result


def upgraded(workdir: Path, url: str, result: dict[str, Any]) -> dict[str, Any]:
    """A kept store at the current schema; its read models rebuilt when that moved it."""
    env = cli_env(url, workdir)
    gridflow("db", "upgrade", env=env)
    done, schema = workdir / "imported.json", revision(url)
    if result.get("schema") == schema:
        return {}
    started = time.perf_counter()
    gridflow("views", "rebuild", "--quiet", env=env)
    kept = {k: v for k, v in result.items() if k != "reused"}
    done.write_text(json.dumps(kept | {"schema": schema}))
    return {"views_rebuild_after_upgrade_s": round(time.perf_counter() - started, 1)}


def articles(workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Ten thousand published knowledge articles in the store (issue 24: search at a million
    cases and ten thousand articles), made once from the demo city's articles: each a demo
    article with a numbered title and a sentence of another, so their pieces overlap as a
    real center's do. Imported by ``gridflow knowledge import`` like a center's sheet."""
    done = workdir / "articles.json"
    if done.exists():
        return json.loads(done.read_text()) | {"reused": True}
    from engine.knowledge.importer import DEMO_ARTICLES

    with DEMO_ARTICLES.open(encoding="utf-8") as f:
        demo = list(csv.DictReader(f))
    rng, sheet = random.Random(ARTICLE_SEED), workdir / "articles.csv"
    with sheet.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(demo[0]))
        out.writeheader()
        for n in range(ARTICLES):
            base, other = rng.choice(demo), rng.choice(demo)
            out.writerow(base | {"标题": f"{base['标题']}（{n:05d}）",
                                 "问题": f"{base['问题']}{other['问题']}",
                                 "答复": f"{base['答复']}{other['答复'][:60]}"})  # fmt: skip
    started = time.perf_counter()
    gridflow("knowledge", "import", str(sheet), "--as", "bench-author",
             "--published-by", "bench-reviewer", env=env)  # fmt: skip
    figures = {"articles": ARTICLES, "import_s": round(time.perf_counter() - started, 1)}
    done.write_text(json.dumps(figures))
    return figures


def sqlite_store(directory: Path, size: Size, reuse: bool) -> tuple[Path, str]:
    """The SQLite store's directory and URL; a fresh one unless ``reuse``."""
    workdir = directory / f"sqlite-{size.cases}{size.suffix}"
    workdir.mkdir(parents=True, exist_ok=True)
    if not reuse:
        for stale in workdir.glob("reads.db*"):
            stale.unlink()
        for stale in ("imported.json", "articles.json"):
            (workdir / stale).unlink(missing_ok=True)
    return workdir, f"sqlite:///{workdir / 'reads.db'}"


def postgres_store(directory: Path, size: Size, reuse: bool) -> Path:
    """The PostgreSQL store's directory (its cluster under ``cluster/``, kept between runs as
    the SQLite file is); emptied unless ``reuse``."""
    workdir = directory / f"postgres-{size.cases}{size.suffix}"
    if not reuse:
        shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def prepared(workdir: Path, url: str, source: Path, reuse: bool) -> dict[str, Any]:
    """The store ready to measure: imported, at the current schema, with the articles."""
    result: dict[str, Any] = {"import": imported(workdir, url, source, reuse)}
    result |= upgraded(workdir, url, result["import"])
    result["articles"] = articles(workdir, cli_env(url, workdir))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="make the bench_reads stores")
    parser.add_argument("--sizes", default="100000:37,1000000", help="SIZE or SIZE:DAYS, …")
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help="kept files")
    parser.add_argument("--reuse", action="store_true", help="keep what is there")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL stores, not SQLite")
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    end = date.today() - timedelta(days=1)
    for name in args.sizes.split(","):
        size = Size.parse(name)
        started = time.perf_counter()
        source = history(directory, size, end)
        generated = round(time.perf_counter() - started, 1)
        if args.postgres:
            from pg_server import PgServer

            workdir = postgres_store(directory, size, args.reuse)
            server = PgServer(workdir / "cluster")
            try:
                figures = prepared(workdir, server.url(), source, args.reuse)
            finally:
                server.stop()
        else:
            workdir, url = sqlite_store(directory, size, args.reuse)
            figures = prepared(workdir, url, source, args.reuse)
        print(json.dumps({name: figures | {"generate_s": generated}}, ensure_ascii=False),
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
