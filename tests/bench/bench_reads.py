"""Benchmark: the views people open, at 100k and 1M imported cases (issue 20 §5; not a test).

For each size: a synthetic history of the demo city (``gridflow history generate``, a year
ending yesterday) is imported (``gridflow import history``) into a fresh SQLite database
(with ``--postgres``, into a throw-away PostgreSQL server from tests/pg_server.py as well);
the app is served by uvicorn in its own process (tests/servers.py) and each view is asked
``--samples`` times one after another, after two warm-up requests: the board (page and API,
city and one district), KPIs (a month of all units, a year of one district), lookups (phone,
ticket, case number), full-text search, the dispatch queue, a department's inbox and a
filtered list (first page and page 100), the case (page and API), the knowledge base's search
over 10,000 articles; then the HTTP closed loop
(``--closed-loop`` web reports filed, dispatched, accepted, resolved and verified one
request after another). Prints one JSON object: per size and backend, the import's rate,
p50/p99 ms per view, the server's RSS idle and after all views, and the loop's cases/s. A
view whose parameter the API does not offer (yet) is reported as ``{"not_available": …}``,
read from the server's OpenAPI document.

Generated histories and imported SQLite databases are kept under ``--dir`` (default
var/bench); ``--reuse`` takes them from there instead of making them again. A kept database
is brought to the current schema (``gridflow db upgrade``) and, when that changed its
revision, its read models are rebuilt (new read-model tables start empty).

A size may name its history's span in days, ``SIZE:DAYS`` (default 365): ``--sizes
100000:37,1000000`` compares 100k cases over 37 days with 1M over a year, the same cases a
day (and so about as many open cases), the history alone ten times longer.

Run: ``python tests/bench/bench_reads.py --sizes 100000,1000000 [--postgres] [--reuse]``.
The machine's load average is reported: on a shared machine other work skews every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ARTICLES, ARTICLE_SEED = 10_000, 24
TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
sys.path[:0] = [str(ROOT), str(TESTS)]

import httpx  # noqa: E402
from servers import Server  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import select  # noqa: E402

from engine.db import make_engine, new_session  # noqa: E402
from engine.users.models import Role, User, UserCreate  # noqa: E402
from engine.users.service import create_user, issue_token  # noqa: E402

CITY = ROOT / "examples" / "demo_city"
DISTRICT = "01"
PASSWORD = "bench-reads-9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def gridflow(*args: str, env: dict[str, str]) -> str:
    """Run the CLI of this checkout; its standard output."""
    command = [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]
    done = subprocess.run(
        [*command, *args], cwd=ROOT, env=os.environ | env, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):  # 1: some records were refused (reported)
        raise RuntimeError(f"gridflow {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout


def history(directory: Path, cases: int, end: date, days: int = 365) -> Path:
    path = directory / f"history-{cases}{suffix(days)}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        plan = ["--cases", str(cases), "--days", str(days), "--end", end.isoformat(), "--quiet"]
        gridflow("history", "generate", str(partial), *plan, env={"GRIDFLOW_CITY_DIR": str(CITY)})
        partial.rename(path)
    return path


def suffix(days: int) -> str:
    """A history's span in its files' names (none for a year, as before)."""
    return "" if days == 365 else f"-{days}d"


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
    env = {
        "GRIDFLOW_DATABASE_URL": url,
        "GRIDFLOW_INSTANCE_DIR": str(workdir / "instance"),
        "GRIDFLOW_CITY_DIR": str(CITY),
    }
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
    }
    # The read models (board, KPIs) from the imported audit trail, where the CLI has it.
    started = time.perf_counter()
    try:
        gridflow("views", "rebuild", "--quiet", env=env)
        result["views_rebuild_s"] = round(time.perf_counter() - started, 1)
    except RuntimeError as exc:
        result["views_rebuild"] = {"not_available": str(exc)[-300:]}
    done.write_text(json.dumps(result))
    return result


def tokens(url: str) -> dict[str, dict[str, str]]:
    db = make_engine(url)
    roles = {
        "admin": (Role.admin, None),
        "supervisor_city": (Role.supervisor, "00"),
        "supervisor_district": (Role.supervisor, DISTRICT),
        "dispatcher": (Role.dispatcher, "00"),
        "operator": (Role.operator, "00"),
        "handler": (Role.handler, "HW-01"),
    }
    now = datetime.now(UTC)
    out = {}
    with new_session(db) as session, session.begin():
        for name, (role, scope) in roles.items():
            token = issue_token(session, role=role, scope=scope, now=now,
                                ttl=timedelta(days=1), label=f"bench-{name}")  # fmt: skip
            out[name] = {"Authorization": f"Bearer {token}"}
        if session.exec(select(User).where(User.username == "bench.sup")).first() is None:
            user = UserCreate(username="bench.sup", display_name="压测督办", role=Role.supervisor,
                              scope="00", password=PASSWORD)  # fmt: skip
            from engine.city.loader import read_city
            from engine.history.generate import city_of

            create_user(session, user, city_of(read_city(CITY)), now)
    db.dispose()
    return out


def samples_of(db_url: str) -> dict[str, Any]:
    """Values to look up: a caller's phone, an imported ticket, a case id, a word."""
    db = make_engine(db_url)
    with new_session(db) as session:
        row = session.execute(text(
            'SELECT id, external_id, reporter_phone FROM "case" WHERE reporter_phone IS NOT NULL '
            "ORDER BY id DESC LIMIT 1"
        )).first()  # fmt: skip
        top = session.execute(text('SELECT max(id), count(*) FROM "case"')).first()
    db.dispose()
    assert row is not None and top is not None
    return {"id": row[0], "ticket": row[1], "phone": row[2], "max_id": top[0], "cases": top[1]}


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn may fork), in KiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_ms(pid: int | None) -> float:
    """The server process's CPU time so far (user + system), in ms: unlike the wall-clock
    figures, hardly moved by other work on a shared machine."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(
    client: httpx.Client, path: str, headers: dict[str, str], samples: int, pid: int | None = None
) -> dict:
    statuses = set()
    for _ in range(2):
        statuses.add(client.get(path, headers=headers).status_code)
    times = []
    cpu_before = cpu_ms(pid)
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    cpu = (cpu_ms(pid) - cpu_before) / samples
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    out: dict[str, Any] = {"p50_ms": round(statistics.median(times), 1), "p99_ms": round(p99, 1)}
    if pid is not None:
        out["server_cpu_ms"] = round(cpu, 1)  # per request, the mean
    if statuses != {200}:
        out["statuses"] = sorted(statuses)
    return out


def parameters(spec: dict[str, Any], path: str) -> set[str]:
    operation = spec.get("paths", {}).get(path, {}).get("get")
    if operation is None:
        return set()
    return {p["name"] for p in operation.get("parameters", [])} | {"<route>"}


def page_100(client: httpx.Client, path: str, headers: dict[str, str], params: set[str]) -> str:
    """The path of the list's 100th page of 50: by cursor (walked to once) or by offset."""
    glue = "&" if "?" in path else "?"
    if "cursor" not in params:
        return f"{path}{glue}limit=50&offset={99 * 50}"
    cursor = None
    for _ in range(99):
        query = f"{path}{glue}limit=50" + (f"&cursor={cursor}" if cursor else "")
        cursor = client.get(query, headers=headers).json().get("next_cursor")
        if cursor is None:
            return f"{path}{glue}limit=50&offset={99 * 50}"  # fewer than 100 pages
    return f"{path}{glue}limit=50&cursor={cursor}"


def page_session(client: httpx.Client) -> None:
    client.cookies.clear()
    form = client.get("/login")
    token = CSRF.search(form.text)
    assert token is not None, "no login form"
    answer = client.post("/login", data={"username": "bench.sup", "password": PASSWORD,
                                         "csrf_token": token[1]})  # fmt: skip
    assert answer.status_code == 303, answer.text[:300]


def views(server: Server, url: str, samples: int, today: date) -> dict[str, Any]:
    auth, pid = tokens(url), server.process.pid
    found = samples_of(url)
    month_start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month_end = today.replace(day=1) - timedelta(days=1)
    year_start = today - timedelta(days=365)
    out: dict[str, Any] = {"cases": found["cases"]}
    with httpx.Client(base_url=server.url, timeout=120) as client:
        spec = client.get("/openapi.json").json()
        cases = parameters(spec, "/api/v1/cases")
        queue = parameters(spec, "/api/v1/dispatch/queue")
        inbox = parameters(spec, "/api/v1/inbox")
        board = parameters(spec, "/api/v1/board")
        checks: list[tuple[str, str, str, set[str], str]] = [
            # name, path, token, the parameters the route must offer, which
            ("board_api_city", "/api/v1/board", "supervisor_city", board, "<route>"),
            ("board_api_district", f"/api/v1/board?unit={DISTRICT}", "supervisor_city",
             board, "unit"),
            ("kpis_month_all_units",
             f"/api/v1/kpis?period_start={month_start}&period_end={month_end}", "admin",
             parameters(spec, "/api/v1/kpis"), "period_start"),
            ("kpis_year_district",
             f"/api/v1/kpis?period_start={year_start}&period_end={today}&unit={DISTRICT}",
             "admin", parameters(spec, "/api/v1/kpis"), "unit"),
            ("lookup_phone", f"/api/v1/cases?phone={found['phone']}", "operator", cases,
             "phone"),
            ("lookup_ticket", f"/api/v1/cases?ticket={found['ticket']}", "operator", cases,
             "ticket"),
            ("lookup_case_number", f"/api/v1/cases?q={found['id']}", "operator", cases, "q"),
            ("search_text", "/api/v1/cases?q=垃圾桶", "operator", cases, "q"),
            ("search_no_match", "/api/v1/cases?q=不存在的说法", "operator", cases, "q"),
            ("queue_first_page", "/api/v1/dispatch/queue", "dispatcher", queue, "<route>"),
            ("inbox_first_page", "/api/v1/inbox", "handler", inbox, "<route>"),
            ("list_filtered_first_page", f"/api/v1/cases?category=06&unit={DISTRICT}",
             "operator", cases, "category"),
            ("case_api", f"/api/v1/cases/{found['id']}", "operator",
             parameters(spec, "/api/v1/cases/{case_id}"), "<route>"),
            ("knowledge_search", "/api/v1/knowledge/search?q=社保卡丢了怎么补办", "operator",
             parameters(spec, "/api/v1/knowledge/search"), "q"),
            ("knowledge_search_category",
             "/api/v1/knowledge/search?q=晚上楼下噪音太大&category=12001", "operator",
             parameters(spec, "/api/v1/knowledge/search"), "category"),
        ]  # fmt: skip
        for name, path, who, offered, needs in checks:
            if needs not in offered:
                out[name] = {"not_available": f"{path.split('?')[0]} has no '{needs}'"}
                continue
            out[name] = timed(client, path, auth[who], samples, pid)
        for name, path, who, offered in (
            ("list_filtered_page_100", f"/api/v1/cases?category=06&unit={DISTRICT}",
             "operator", cases),
            ("queue_page_100", "/api/v1/dispatch/queue", "dispatcher", queue),
            ("inbox_page_100", "/api/v1/inbox", "handler", inbox),
        ):  # fmt: skip
            if "<route>" not in offered:
                out[name] = {"not_available": "no such route"}
                continue
            if "cursor" not in offered and "offset" not in offered:
                out[name] = {"not_available": f"{path.split('?')[0]} pages by neither"}
                continue
            out[name] = timed(client, page_100(client, path, auth[who], offered), auth[who],
                              samples, pid)  # fmt: skip
        page_session(client)
        out["board_page"] = timed(client, "/board", {}, samples, pid)
        out["case_page"] = timed(client, f"/cases/{found['id']}", {}, samples, pid)
    return out


class Tokens:
    """Bearer headers per (role, scope), minted in the database on first use."""

    def __init__(self, url: str) -> None:
        self.db = make_engine(url)
        self.made: dict[tuple[Role, str | None], dict[str, str]] = {}

    def __call__(self, role: Role, scope: str | None) -> dict[str, str]:
        if (role, scope) not in self.made:
            with new_session(self.db) as session, session.begin():
                now, label = datetime.now(UTC), f"loop-{role}-{scope}"
                token = issue_token(session, role=role, scope=scope, now=now,
                                    ttl=timedelta(days=1), label=label)  # fmt: skip
            self.made[role, scope] = {"Authorization": f"Bearer {token}"}
        return self.made[role, scope]


def closed_loop(server: Server, url: str, cases: int) -> dict[str, Any]:
    """One client takes ``cases`` web reports through the loop over HTTP, one request after
    another: file, dispatch (unless the rules did), accept, resolve, verify (which closes)."""
    if cases <= 0:
        return {}
    auth = Tokens(url)
    times: dict[str, list[float]] = {}
    closed, refused = 0, []
    body = {"channel": "web", "category": "06002", "grid_code": "01010101",
            "description": "小区门口垃圾堆积三天无人清理，气味很大"}  # fmt: skip

    def call(client: httpx.Client, name: str, path: str, headers, json: dict) -> dict | None:
        started = time.perf_counter()
        response = client.post(path, json=json, headers=headers)
        times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        if response.status_code not in (200, 201):
            refused.append(f"{name}: {response.status_code} {response.text[:120]}")
            return None
        return response.json()

    started = time.perf_counter()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for _ in range(cases):
            case = call(client, "file", "/api/v1/cases", auth(Role.operator, "00"), body)
            if case is None:
                continue
            act = f"/api/v1/cases/{case['id']}/actions/"
            if case["state"] == "registered":
                case = call(client, "dispatch", act + "dispatch", auth(Role.dispatcher, "00"),
                            {"department": "HW-01"})  # fmt: skip
            if case is None or case["state"] != "assigned":
                continue
            handler = auth(Role.handler, case["lead_department"])
            if call(client, "accept", act + "accept", handler, {}) is None:
                continue
            if call(client, "resolve", act + "resolve", handler, {"result": "已清运"}) is None:
                continue
            check = {"passed": True, "photos": ["p/after.jpg"]}
            case = call(client, "verify", act + "verify", auth(Role.grid_worker, "01010101"),
                        check)  # fmt: skip
            closed += case is not None and case["state"] == "closed"
    seconds = time.perf_counter() - started
    auth.db.dispose()
    return {
        "cases": cases,
        "closed": closed,
        "seconds": round(seconds, 1),
        "cases_per_s": round(cases / seconds, 1),
        "requests_p50_ms": {k: round(statistics.median(v), 1) for k, v in times.items()},
        "refused": refused[:5],
    }


def articles(workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Ten thousand published knowledge articles in the store (issue 24: search at a million
    cases and ten thousand articles), made once from the demo city's articles: each a demo
    article with a numbered title and a sentence of another, so their pieces overlap as a
    real center's do. Imported by ``gridflow knowledge import`` like a center's sheet."""
    done = workdir / "articles.json"
    if done.exists():
        return json.loads(done.read_text()) | {"reused": True}
    import csv
    import random

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


def measure(workdir: Path, url: str, source: Path, args, today: date) -> dict[str, Any]:
    result: dict[str, Any] = {"import": imported(workdir, url, source, args.reuse)}
    # Migrations newer than a kept database run here, not in the server's start-up; a new
    # revision may bring read-model tables that start empty: rebuild them then.
    env = {"GRIDFLOW_DATABASE_URL": url, "GRIDFLOW_INSTANCE_DIR": str(workdir / "instance"),
           "GRIDFLOW_CITY_DIR": str(CITY)}  # fmt: skip
    gridflow("db", "upgrade", env=env)
    done, schema = workdir / "imported.json", revision(url)
    if result["import"].get("schema") != schema:
        if result["import"].get("reused"):
            started = time.perf_counter()
            gridflow("views", "rebuild", "--quiet", env=env)
            result["views_rebuild_after_upgrade_s"] = round(time.perf_counter() - started, 1)
        kept = {k: v for k, v in result["import"].items() if k != "reused"}
        done.write_text(json.dumps(kept | {"schema": schema}))
    result["articles"] = articles(workdir, env)
    server = Server(url, workdir, GRIDFLOW_CITY_DIR=str(CITY), GRIDFLOW_OUTBOX_POLL_SECONDS="0")
    try:
        result["server_rss_mb_idle"] = round(rss_kb(server.process.pid) / 1024)
        result["views"] = views(server, url, args.samples, today)
        result["server_rss_mb_after"] = round(rss_kb(server.process.pid) / 1024)
        result["http_closed_loop"] = closed_loop(server, url, args.closed_loop)
    finally:
        server.kill()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="case counts, comma-separated; SIZE:DAYS for a span other than "
                             "365 days")  # fmt: skip
    parser.add_argument("--samples", type=int, default=50, help="timed requests per view")
    parser.add_argument("--dir", default=str(ROOT / "var" / "bench"), help="kept files")
    parser.add_argument("--reuse", action="store_true", help="keep generated/imported files")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL as well")
    parser.add_argument("--closed-loop", type=int, default=200,
                        help="cases taken through the loop over HTTP (0: none)")  # fmt: skip
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    today = date.today()
    out: dict[str, Any] = {"load_before": os.getloadavg(), "sizes": {}}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    out["commit"] = commit
    for name in args.sizes.split(","):
        size, _, span = name.partition(":")
        size, days = int(size), int(span or 365)
        source = history(directory, size, today - timedelta(days=1), days)
        figures: dict[str, Any] = {"days": days}
        workdir = directory / f"sqlite-{size}{suffix(days)}"
        workdir.mkdir(exist_ok=True)
        if not args.reuse:
            for stale in workdir.glob("reads.db*"):
                stale.unlink()
            (workdir / "imported.json").unlink(missing_ok=True)
        figures["sqlite"] = measure(workdir, f"sqlite:///{workdir / 'reads.db'}", source, args,
                                    today)  # fmt: skip
        if args.postgres:
            from pg_server import PgServer

            pg = PgServer()
            try:
                pg_dir = directory / f"postgres-{size}{suffix(days)}"
                pg_dir.mkdir(exist_ok=True)
                (pg_dir / "imported.json").unlink(missing_ok=True)
                reuse, args.reuse = args.reuse, False  # the server is new: import again
                figures["postgresql"] = measure(pg_dir, pg.url(), source, args, today)
                args.reuse = reuse
            finally:
                pg.stop()
        out["sizes"][name] = figures
        print(json.dumps({name: figures}, ensure_ascii=False), file=sys.stderr)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
