"""Benchmark: one case's closed loop over HTTP, this checkout against an older commit (not a test).

The loop of issue 20 §5, as ``bench_reads.py --closed-loop`` runs it: a web report filed by
an operator, dispatched by a dispatcher (unless the demo rules did), accepted and resolved by
the department, verified on site by the grid worker (which closes it), one request after
another from one keep-alive client. Each tree (``--base`` and ``--also`` extracted with ``git
archive`` under ``--dir``, and this checkout) gets a fresh demo-city SQLite database (its own
``gridflow init``) and its own uvicorn process (started from the tree, so it serves that
tree's code). All servers run side by side and the client takes one case through each in
turn, ``--warmup`` cases then ``--cases`` timed ones, so a busy second of the shared machine
falls on every tree alike; ``--rounds`` repeats that with fresh databases.

Per tree and round: cases/s (the wall time of its own cases), the SERVER's CPU per case
(utime + stime of its uvicorn process from /proc over the run, every thread, so its idle
sweep ticks while the others work are in it: ``idle_cpu_ms_per_s`` gives their size), the
client's CPU per case, and the p50 of each request. The server's CPU is the figure to compare
on a noisy machine; wall cases/s also pays the client and the loopback. Prints one JSON
object with every run, the medians per tree and the ratios of the medians to the base's.

``--in-process`` takes the same loop through each tree's ASGI app in one process instead
(tests/bench/loop_in_process.py: no uvicorn, no client), and compares that process's CPU per
case: what the app itself costs.

Run: ``python tests/bench/bench_http_loop.py [--base f379ab0] [--also REV,…] [--head REV]
[--cases 300] [--rounds 3] [--in-process]``: ``--also`` adds commits between (each a tree of
its own in the same rounds), ``--head`` measures a commit instead of this working tree
(whose uncommitted changes, anyone's, the figures would otherwise include). Ratios are to
``--base``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
sys.path[:0] = [str(TESTS)]

import httpx  # noqa: E402
from servers import free_port  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPORT = {"channel": "web", "category": "06002", "grid_code": "01010101",
          "description": "小区门口垃圾堆积三天无人清理，气味很大"}  # fmt: skip
# (role, scope) of each caller; the handler's scope is the case's lead department.
CALLERS = {"operator": ("operator", "00"), "dispatcher": ("dispatcher", "00"),
           "handler": ("handler", "HW-01"), "grid_worker": ("grid_worker", "01010101")}  # fmt: skip
# Minted by the tree's own code, so a token is what that tree expects.
MINT = """
import json, sys
from datetime import UTC, datetime, timedelta
from engine.db import make_engine, new_session
from engine.users.models import Role
from engine.users.service import issue_token
db = make_engine(sys.argv[1])
out = {}
with new_session(db) as session, session.begin():
    for name, (role, scope) in json.loads(sys.argv[2]).items():
        out[name] = issue_token(session, role=Role(role), scope=scope, now=datetime.now(UTC),
                                ttl=timedelta(days=1), label=f"bench-{name}")
db.dispose()
print(json.dumps(out))
"""


def tree_of(commit: str, directory: Path) -> Path:
    """The files of ``commit`` under ``directory`` (extracted once, kept)."""
    sha = subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    tree = directory / f"tree-{sha}"
    if not (tree / "web" / "app.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def run_in(tree: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=tree, env=os.environ | env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{args[:3]} in {tree}: {done.stderr[-2000:]}")
    return done.stdout


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


class Loop:
    """One keep-alive client taking cases through the loop; p50 per request kept."""

    def __init__(self, client: httpx.Client, tokens: dict[str, str]) -> None:
        self.client = client
        self.auth = {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}
        self.times: dict[str, list[float]] = {}
        self.refused: list[str] = []

    def call(self, name: str, path: str, who: str, body: dict) -> dict | None:
        started = time.perf_counter()
        response = self.client.post(path, json=body, headers=self.auth[who])
        self.times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        if response.status_code not in (200, 201):
            self.refused.append(f"{name}: {response.status_code} {response.text[:160]}")
            return None
        return response.json()

    def one(self) -> bool:
        case = self.call("file", "/api/v1/cases", "operator", REPORT)
        if case is None:
            return False
        act = f"/api/v1/cases/{case['id']}/actions/"
        if case["state"] == "registered":
            case = self.call("dispatch", act + "dispatch", "dispatcher", {"department": "HW-01"})
        if case is None or case["state"] != "assigned":
            return False
        if self.call("accept", act + "accept", "handler", {}) is None:
            return False
        if self.call("resolve", act + "resolve", "handler", {"result": "已清运"}) is None:
            return False
        check = {"passed": True, "photos": ["p/after.jpg"]}
        case = self.call("verify", act + "verify", "grid_worker", check)
        return case is not None and case["state"] == "closed"


@contextmanager
def prepared(tree: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """A fresh demo-city database for ``tree`` (its own ``gridflow init``) and a token per
    caller: the environment its processes run with, and the tokens."""
    with tempfile.TemporaryDirectory(prefix="gridflow-loop-") as scratch:
        work = Path(scratch)
        url = f"sqlite:///{work / 'loop.db'}"
        env = {
            "GRIDFLOW_DATABASE_URL": url,
            "GRIDFLOW_ATTACHMENTS_DIR": str(work / "attachments"),
            "GRIDFLOW_INTAKE_RATE_PER_SECOND": "0",
            "GRIDFLOW_INSTANCE_DIR": str(work / "instance"),
            "GRIDFLOW_CITY_DIR": str(tree / "examples" / "demo_city"),
            "GRIDFLOW_SECRET_KEY": "test-secret",  # loopback only
            "GRIDFLOW_OUTBOX_POLL_SECONDS": "0",
        }
        cli = "import sys; from web.cli import main; sys.exit(main())"
        run_in(tree, env, "-c", cli, "init", "--example", "demo_city")
        yield env, json.loads(run_in(tree, env, "-c", MINT, url, json.dumps(CALLERS)))


@contextmanager
def served(tree: Path) -> Iterator[tuple[subprocess.Popen, Loop]]:
    """``tree``'s app under uvicorn on a fresh database, and a loop client for it."""
    with prepared(tree) as (env, tokens):
        port = free_port()
        command = ["-m", "uvicorn", "web.app:create_app", "--factory", "--host", "127.0.0.1",
                   "--port", str(port), "--log-level", "warning"]  # fmt: skip
        server = subprocess.Popen([sys.executable, *command], cwd=tree, env=os.environ | env)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:  # readiness poll
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server of {tree} did not start")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            with httpx.Client(base_url=base, timeout=60) as client:
                yield server, Loop(client, tokens)
        finally:
            server.kill()
            server.wait(timeout=10)


def in_process(tree: Path, cases: int, warmup: int) -> dict[str, Any]:
    with prepared(tree) as (env, tokens):
        script = str(Path(__file__).with_name("loop_in_process.py"))
        return json.loads(run_in(tree, env, script, json.dumps(tokens), str(cases), str(warmup)))


def side_by_side(trees: dict[str, Path], cases: int, warmup: int) -> dict[str, dict[str, Any]]:
    """Every tree's server up at once, the client taking one case through each in turn (the
    order rotating), so a busy second of the machine falls on all of them alike. A server's
    CPU is counted over the whole run: its idle share while the others work is in it (the
    sweep ticks; ``idle_cpu_ms_per_s`` measures it before the run)."""
    with ExitStack() as stack:
        running = {name: stack.enter_context(served(tree)) for name, tree in trees.items()}
        for _, loop in running.values():
            for _ in range(warmup):
                loop.one()
            loop.times.clear()
        idle = {name: cpu_seconds(server.pid) for name, (server, _) in running.items()}
        time.sleep(5)  # idle CPU of each server, to weigh its share in the run's figure
        idle = {name: (cpu_seconds(s.pid) - idle[name]) / 5 for name, (s, _) in running.items()}
        names = list(running)
        wall = dict.fromkeys(names, 0.0)
        client = dict.fromkeys(names, 0.0)
        closed = dict.fromkeys(names, 0)
        started = {name: cpu_seconds(server.pid) for name, (server, _) in running.items()}
        for i in range(cases):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                t, c = time.perf_counter(), time.process_time()
                closed[name] += running[name][1].one()
                wall[name] += time.perf_counter() - t
                client[name] += time.process_time() - c
        out = {}
        for name, (server, loop) in running.items():
            cpu = cpu_seconds(server.pid) - started[name]
            requests = sum(len(v) for v in loop.times.values())
            out[name] = {
                "closed": closed[name],
                "requests": requests,
                "cases_per_s": round(cases / wall[name], 1),
                "server_cpu_ms_per_case": round(cpu * 1000 / cases, 2),
                "server_cpu_ms_per_request": round(cpu * 1000 / requests, 2),
                "client_cpu_ms_per_case": round(client[name] * 1000 / cases, 2),
                "idle_cpu_ms_per_s": round(idle[name] * 1000, 2),
                "p50_ms": {k: round(statistics.median(v), 2) for k, v in loop.times.items()},
                "refused": loop.refused[:3],
            }
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="f379ab0", help="the commit to compare with")
    parser.add_argument("--also", default="", help="more commits between, comma-separated")
    parser.add_argument("--head", default="", help="a commit instead of this working tree")
    parser.add_argument("--cases", type=int, default=300, help="timed cases per run")
    parser.add_argument("--warmup", type=int, default=20, help="untimed cases first")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per tree")
    parser.add_argument("--dir", default=str(ROOT / "var" / "bench"), help="extracted trees")
    parser.add_argument("--only-head", action="store_true", help="this checkout alone")
    parser.add_argument("--in-process", action="store_true",
                        help="through the ASGI app: no server, no client")  # fmt: skip
    args = parser.parse_args()
    directory = Path(args.dir)
    trees: dict[str, Path] = {}
    if not args.only_head:
        for commit in [args.base, *filter(None, args.also.split(","))]:
            trees[commit] = tree_of(commit, directory)
    if args.head:
        trees[args.head] = tree_of(args.head, directory)
    else:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        status = ["git", "status", "--porcelain", "-uno", "--", "web", "engine"]
        dirty = subprocess.run(status, cwd=ROOT, capture_output=True, text=True).stdout.strip()
        trees[f"{head}{' + working tree' if dirty else ''}"] = ROOT
    out: dict[str, Any] = {"load_before": os.getloadavg(), "cases": args.cases, "runs": {}}
    for round_ in range(args.rounds):
        if args.in_process:
            found = {
                name: in_process(tree, args.cases, args.warmup) for name, tree in trees.items()
            }
        else:
            found = side_by_side(trees, args.cases, args.warmup)
        for name, figures in found.items():
            figures["load"] = os.getloadavg()[0]
            out["runs"].setdefault(name, []).append(figures)
        print(json.dumps({"round": round_} | found, ensure_ascii=False), file=sys.stderr)
    if args.in_process:
        keys, speed, cost = ("cpu_ms_per_case",), None, "cpu_ms_per_case"
    else:
        keys = ("cases_per_s", "server_cpu_ms_per_case", "client_cpu_ms_per_case")
        speed, cost = "cases_per_s", "server_cpu_ms_per_case"
    medians = {
        name: {key: round(statistics.median(run[key] for run in runs), 2) for key in keys}
        for name, runs in out["runs"].items()
    }
    out["medians"] = medians
    first, *others = medians
    ratios: dict[str, dict[str, float]] = {name: {} for name in others}
    for name in others:
        if speed:
            ratios[name][speed] = round(medians[name][speed] / medians[first][speed], 2)
        ratios[name]["cpu_per_case"] = round(medians[first][cost] / medians[name][cost], 2)
    out["ratios_to_" + first] = ratios
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
