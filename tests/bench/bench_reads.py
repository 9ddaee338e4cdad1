"""Benchmark: the views and pages people open, at 100k and 1M imported cases (issue 20 §5,
issue 21; not a test).

For each size, a store (tests/bench/reads_store.py): a synthetic history of the demo city
(``gridflow history generate``, a span ending yesterday, its last three days' cases still
open) imported into a fresh SQLite database (with ``--postgres``, into a PostgreSQL cluster
of tests/pg_server.py as well; ``--postgres-only`` for that alone), with 10,000 knowledge
articles. The app is served by uvicorn in its own process (tests/servers.py) and each view
and page is asked ``--samples`` times one after another, after two warm-up requests
(tests/bench/reads_views.py):

- the read API's views: the board (city and one district), KPIs (a month of all units, a
  year of one district), lookups (phone, ticket, case number), full-text search, the
  dispatch queue, a department's inbox and a filtered list (first page and page 100), the
  case, the knowledge base's search;
- every page each desk opens, through its own signed-in session: the operator's intake,
  search results and case pages, the dispatcher's queue (first and a filtered page) and
  approvals, the department's inbox, the grid worker's page, the big screen and its data,
  the KPI page, the admin pages (rules with the backtest form, not run; users; …). Each
  page's first byte and whole answer are timed (issue 21: first byte ≤ 300 ms p99 at 1M).

Then the HTTP closed loop (``--closed-loop`` web reports filed, dispatched, accepted,
resolved and verified one request after another; tests/bench/reads_loop.py). Prints one
JSON object: per size and backend, the import's rate, p50 / p99 ms per view and page (and
first byte), the server's CPU ms per request, its RSS idle and after all of them, the
loop's cases/s, the load average. A view whose parameter the API does not offer is reported
as ``{"not_available": …}``, read from the server's OpenAPI document.

Stores are kept under ``--dir`` (default var/bench; a PostgreSQL store's cluster too, started
for the run and stopped after it); ``--reuse`` takes them from there (a 1M import takes a
long while: make the SQLite stores early with ``python tests/bench/reads_store.py --sizes
…``). ``SIZE:DAYS`` names a span other than a year:
``--sizes 100000:37,1000000`` compares 100k cases over 37 days with 1M over a year, the same
cases a day and so the same open cases, the history alone ten times longer.

Run: ``python tests/bench/bench_reads.py --sizes 100000:37,1000000 [--reuse] [--postgres |
--postgres-only] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
sys.path[:0] = [str(ROOT), str(TESTS), str(Path(__file__).resolve().parent)]

import httpx  # noqa: E402
from reads_loop import closed_loop  # noqa: E402
from reads_people import tokens  # noqa: E402
from reads_store import (  # noqa: E402
    CITY,
    DEFAULT_DIR,
    Size,
    history,
    postgres_store,
    prepared,
    sqlite_store,
)
from reads_timing import rss_kb  # noqa: E402
from reads_views import api_views, page_views, picked  # noqa: E402
from servers import Server  # noqa: E402


def measure(workdir: Path, url: str, source: Path, args, today: date) -> dict[str, Any]:
    result = prepared(workdir, url, source, args.reuse)
    auth, found = tokens(url), picked(url)
    server = Server(url, workdir, GRIDFLOW_CITY_DIR=str(CITY), GRIDFLOW_OUTBOX_POLL_SECONDS="0")
    pid = server.process.pid
    try:
        result["server_rss_mb_idle"] = round(rss_kb(pid) / 1024)
        result["load_before_views"] = os.getloadavg()
        with httpx.Client(base_url=server.url, timeout=120) as client:
            views = api_views(client, auth, found, args.samples, pid, today)
        result["views"] = {"cases": found.cases} | views
        result["pages"] = page_views(server.url, found, args.samples, pid, today)
        result["load_after_views"] = os.getloadavg()
        result["server_rss_mb_after"] = round(rss_kb(pid) / 1024)
        result["http_closed_loop"] = closed_loop(server.url, url, args.closed_loop)
    finally:
        server.kill()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000:37,1000000",
                        help="case counts, comma-separated; SIZE:DAYS for a span other than "
                             "365 days")  # fmt: skip
    parser.add_argument("--samples", type=int, default=50, help="timed requests per view")
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help="kept files")
    parser.add_argument("--reuse", action="store_true", help="keep generated/imported files")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL as well")
    parser.add_argument("--postgres-only", action="store_true", help="PostgreSQL alone")
    parser.add_argument("--closed-loop", type=int, default=200,
                        help="cases taken through the loop over HTTP (0: none)")  # fmt: skip
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    today = date.today()
    backends = (
        {"postgresql"}
        if args.postgres_only
        else {"sqlite"} | ({"postgresql"} if args.postgres else set())
    )
    out: dict[str, Any] = {"load_before": os.getloadavg(), "sizes": {}}
    out["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                   capture_output=True, text=True).stdout.strip()  # fmt: skip
    for name in args.sizes.split(","):
        size = Size.parse(name)
        source = history(directory, size, today - timedelta(days=1))
        figures: dict[str, Any] = {"days": size.days}
        if "sqlite" in backends:
            workdir, url = sqlite_store(directory, size, args.reuse)
            figures["sqlite"] = measure(workdir, url, source, args, today)
        if "postgresql" in backends:
            from pg_server import PgServer

            pg_dir = postgres_store(directory, size, args.reuse)
            pg = PgServer(pg_dir / "cluster")
            try:
                figures["postgresql"] = measure(pg_dir, pg.url(), source, args, today)
            finally:
                pg.stop()
        out["sizes"][name] = figures
        print(json.dumps({name: figures}, ensure_ascii=False), file=sys.stderr)
    out["load_after"] = os.getloadavg()
    text = json.dumps(out, ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
