"""`gridflow history generate` and `gridflow import history`: a generated history lands with
audit events that verify, bad records go to the errors file with line and field, a re-run
and a run resumed after a crash skip what landed (by the old system's id), and the cases
still open in the old system get their SLA clock and timers."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from audit_support import findings
from sqlalchemy import func, select

from engine.cases.models import Case, CaseEvent
from engine.db import new_session
from engine.history import landing
from engine.history.generate import HistoryGenerator, HistoryPlan, write_history
from engine.history.replay import IMPORTED
from engine.search import bulk as search_bulk
from engine.search.views import by_text
from engine.settings import get_settings
from engine.sla.calendars import build_calendar
from engine.sla.models import SlaClock
from engine.timers.models import Timer
from engine.views import service as views
from engine.views.facts import DAYS
from web.cli import main

END = date(2026, 2, 27)  # the history ends before the tests' virtual now (2026-03-02)


@pytest.fixture
def cli(ctx, monkeypatch):
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(ctx.settings.instance_dir))
    get_settings.cache_clear()
    yield main
    get_settings.cache_clear()


def generate(ctx, cases: int, days: int = 5, open_hours: float = 6) -> list[str]:
    """A synthetic history of the demo city as JSON lines (the cases filed in its last
    ``open_hours`` still open)."""
    city = ctx.city
    plan = HistoryPlan(cases, days, END, seed=7, open_hours=open_hours)
    generator = HistoryGenerator(city, build_calendar(city.settings, city.timezone, []), plan)
    out = io.StringIO()
    assert write_history(generator, out.write) == cases
    return out.getvalue().splitlines()


def write_lines(path, lines) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def imported(ctx) -> dict[str, Case]:
    with new_session(ctx.db) as session:
        found = session.exec(select(Case).where(Case.channel == IMPORTED)).scalars()
        return {case.external_id: case for case in found}


def count(ctx, model, *where) -> int:
    with new_session(ctx.db) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_generated_history_lands_closed_and_open_with_a_trail_that_verifies(
    ctx, cli, tmp_path, capsys
):
    lines = generate(ctx, 120)
    source = tmp_path / "history.jsonl"
    write_lines(source, lines)
    assert cli(["import", "history", str(source), "--batch", "50", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "120 records: 120 cases imported" in out and "0 errors" in out
    assert not (tmp_path / "history.errors.jsonl").exists()

    cases = imported(ctx)
    records = {r["old_id"]: r for r in map(json.loads, lines)}
    assert set(cases) == set(records)
    for old_id, case in cases.items():
        record = records[old_id]
        assert case.channel == IMPORTED
        assert case.category == record["category"]
        assert case.description == record["description"]
        assert case.version == len(record["timeline"]) + 1  # the report, then each step
    # Every step is an event: the report plus the record's timeline.
    assert count(ctx, CaseEvent) == sum(len(r["timeline"]) + 1 for r in records.values())
    states = {case.state for case in cases.values()}
    assert "closed" in states
    assert states & {"assigned", "in_progress", "suspended"}  # a few still open

    assert findings(ctx) == []
    assert cli(["audit", "verify"]) == 0
    assert f"{len(cases)} cases" in capsys.readouterr().out
    # The read models counted each batch as it landed: kept = rebuilt from the trail.
    with ctx.db.connect() as conn:
        now = ctx.clock.now()
        assert views.check(conn, ctx.city, ctx.workflow, ctx.calendars.get(), now) == []
        assert conn.execute(select(func.count()).select_from(DAYS)).scalar_one() > 0


def test_full_text_search_finds_every_imported_case_and_new_cases_after(ctx, cli, tmp_path):
    """The import indexes each batch in one statement (SQLite: its insert trigger is dropped
    and made again inside the batch's transaction); the index holds every imported case,
    and the cases filed after the import are indexed by the trigger as before."""
    from audit_support import make_cases

    lines = generate(ctx, 45)
    source = tmp_path / "history.jsonl"
    write_lines(source, lines)
    assert cli(["import", "history", str(source), "--batch", "20", "--quiet"]) == 0
    cases = imported(ctx)
    with new_session(ctx.db) as session:
        for case in list(cases.values())[::7]:
            term = case.description[:6]
            where, _ = by_text(session, term)
            found = set(session.exec(select(Case.id).where(*where)).scalars())
            assert case.id in found, term
    (newest,) = make_cases(ctx, 1)  # filed after the import: the trigger indexes it
    with new_session(ctx.db) as session:
        where, _ = by_text(session, session.get(Case, newest).description)
        assert set(session.exec(select(Case.id).where(*where)).scalars()) == {newest}
    assert_search_index_matches_the_cases(ctx)


def test_open_cases_get_their_stage_clock_and_timers(ctx, cli, tmp_path):
    source = tmp_path / "history.jsonl"
    write_lines(source, generate(ctx, 80, open_hours=24))
    assert cli(["import", "history", str(source), "--quiet"]) == 0
    cases = imported(ctx).values()
    open_ids = {case.id for case in cases if case.closed_at is None}
    closed_ids = {case.id for case in cases} - open_ids
    assert len(open_ids) == 15  # filed on the last day
    with new_session(ctx.db) as session:
        clocks = session.exec(select(SlaClock)).scalars().all()
        timers = session.exec(select(Timer)).scalars().all()
    running = {c.case_id for c in clocks if c.stopped_at is None}
    assert running == open_ids  # one running stage clock per open case, none for the closed
    assert not {c.case_id for c in clocks} & closed_ids
    by_case = {c.id: c for c in cases}
    suspended = {i for i in open_ids if by_case[i].state == "suspended"}
    pending = {t.case_id for t in timers if t.status == "pending"}
    assert pending == open_ids - suspended  # a paused clock has no deadline to watch
    for clock in clocks:
        stage = {"assigned": "accept", "in_progress": "handle", "suspended": "handle"}
        assert clock.stage == stage[by_case[clock.case_id].state]
        assert clock.due_at > clock.started_at
        if by_case[clock.case_id].state == "suspended":
            assert clock.paused_at is not None


def bad_lines(good: str) -> list[str]:
    record = json.loads(good)

    def variant(**changes) -> str:
        return json.dumps(record | changes, ensure_ascii=False)

    steps = record["timeline"]
    return [
        good,  # line 1: fine
        "{not json",  # line 2
        variant(old_id="B-3", category="99999"),  # line 3: unknown category
        variant(old_id="B-4", colour="red"),  # line 4: unknown field
        variant(old_id="B-5", timeline=[{"action": "accept", "at": steps[0]["at"]}]),  # line 5
        "",  # a blank line is skipped, and counts as a line
        variant(old_id="B-7", timeline=[steps[1] | {"at": "2020-01-01T00:00:00"}, *steps]),
        variant(old_id="B-8", reported_at="yesterday"),  # line 8
    ]


def test_bad_records_go_to_the_errors_file_with_line_and_field(ctx, cli, tmp_path, capsys):
    source = tmp_path / "history.jsonl"
    write_lines(source, bad_lines(generate(ctx, 1, open_hours=0)[0]))
    assert cli(["import", "history", str(source), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "7 records: 1 cases imported" in out
    errors_file = tmp_path / "history.errors.jsonl"
    assert f"error report: {errors_file}" in out
    errors = [json.loads(line) for line in errors_file.read_text("utf-8").splitlines()]
    found = {(e["line"], e["old_id"], e["field"]) for e in errors}
    assert found == {
        (2, "", "record"),
        (3, "B-3", "category"),
        (4, "B-4", "colour"),
        (5, "B-5", "timeline[0].action"),
        (7, "B-7", "timeline[0].at"),
        (8, "B-8", "reported_at"),
    }
    by_line = {e["line"]: e["reason"] for e in errors}
    assert "99999" in by_line[3]
    assert "not possible in state 'reported'" in by_line[5]
    assert len(imported(ctx)) == 1


def test_an_earlier_step_time_is_refused_naming_the_step(ctx, cli, tmp_path):
    record = json.loads(generate(ctx, 1, open_hours=0)[0])
    steps = record["timeline"]
    steps[2]["at"] = "2020-01-01T08:00:00"
    source = tmp_path / "history.jsonl"
    write_lines(source, [json.dumps(record, ensure_ascii=False)])
    errors = tmp_path / "bad.jsonl"
    assert cli(["import", "history", str(source), "--errors", str(errors), "--quiet"]) == 1
    (error,) = [json.loads(line) for line in errors.read_text("utf-8").splitlines()]
    assert (error["line"], error["field"]) == (1, "timeline[2].at")
    assert imported(ctx) == {}


def test_a_rerun_skips_what_landed_by_the_old_id(ctx, cli, tmp_path, capsys):
    lines = generate(ctx, 60)
    first, both = tmp_path / "first.jsonl", tmp_path / "both.jsonl"
    write_lines(first, lines[:40])
    write_lines(both, lines)
    assert cli(["import", "history", str(first), "--quiet"]) == 0
    assert "40 cases imported" in capsys.readouterr().out
    assert cli(["import", "history", str(both), "--batch", "7", "--quiet"]) == 0
    assert "60 records: 20 cases imported (4 open), 40 already imported" in (
        capsys.readouterr().out
    )
    assert cli(["import", "history", str(both), "--quiet"]) == 0
    assert "0 cases imported" in capsys.readouterr().out
    assert len(imported(ctx)) == 60
    # A record repeated in one file lands once.
    repeated = tmp_path / "repeated.jsonl"
    write_lines(repeated, [lines[0], lines[0]])
    assert cli(["import", "history", str(repeated), "--quiet"]) == 0
    assert "2 already imported" in capsys.readouterr().out
    assert findings(ctx) == []
    assert views_check(ctx) == []  # a batch partly landed before: its facts replayed


def views_check(ctx) -> list[str]:
    """``gridflow views check``: the kept read models against a rebuild from the trail."""
    with ctx.db.connect() as conn:
        return views.check(conn, ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now())


@pytest.mark.parametrize("workers", [0, 2])
def test_the_writer_only_adds_up_the_facts_made_with_each_case(ctx, tmp_path, monkeypatch, workers):
    """Each case's read-model facts are worked out where it is replayed (the workers), the
    open cases' as they land: the sink's replay from the database runs only for a batch
    some of whose cases had landed before."""
    from engine.history.service import HistoryImport, read_jsonl

    source = tmp_path / "history.jsonl"
    lines = generate(ctx, 90, open_hours=24)
    write_lines(source, lines[50:])  # the latest cases: some still open
    replayed: list[int] = []
    land = views.ImportedCases.land

    def replay_from_the_database(self, session, batch):
        replayed.extend(case.id for case in batch)
        land(self, session, batch)

    monkeypatch.setattr(views.ImportedCases, "land", replay_from_the_database)

    def run():
        sink = views.ImportedCases(ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now)
        importer = HistoryImport(
            ctx.db, ctx.clock, ctx.workflow, ctx.city, ctx.calendars, ctx.audit_keys,
            batch=20, workers=workers, sinks=[sink],
        )  # fmt: skip
        return importer.run(read_jsonl(source), errors=lambda bad: None)

    report = run()
    assert report.landed == 40 and report.open > 0
    assert replayed == []
    assert views_check(ctx) == []
    write_lines(source, lines)  # again, with 50 more: the third batch lands 10 of its 20
    assert run().landed == 50
    assert len(replayed) == 10
    assert views_check(ctx) == []


def test_an_import_killed_mid_batch_resumes_where_it_stopped(ctx, cli, tmp_path, monkeypatch):
    lines = generate(ctx, 100)
    source = tmp_path / "history.jsonl"
    write_lines(source, lines)
    land, calls = landing.Lander.land, []

    def crash_in_third_batch(self, session, batch, *rest):
        calls.append(len(batch))
        opened = land(self, session, batch, *rest)  # its rows are written, not committed
        if len(calls) == 3:
            raise KeyboardInterrupt  # the operator's ^C, or the process killed
        return opened

    monkeypatch.setattr(landing.Lander, "land", crash_in_third_batch)
    with pytest.raises(KeyboardInterrupt):
        cli(["import", "history", str(source), "--batch", "30", "--quiet"])
    assert len(imported(ctx)) == 60  # two batches committed, the third rolled back whole
    assert count(ctx, CaseEvent) == sum(len(json.loads(x)["timeline"]) + 1 for x in lines[:60])

    monkeypatch.setattr(landing.Lander, "land", land)
    assert cli(["import", "history", str(source), "--batch", "30", "--quiet"]) == 0
    cases = imported(ctx)
    assert set(cases) == {json.loads(line)["old_id"] for line in lines}
    assert count(ctx, CaseEvent) == sum(len(json.loads(x)["timeline"]) + 1 for x in lines)
    assert findings(ctx) == []
    assert_search_index_matches_the_cases(ctx)  # the rolled-back batch left no index rows
    assert views_check(ctx) == []  # nor read-model facts


def assert_search_index_matches_the_cases(ctx) -> None:
    """SQLite: FTS5's own check of the external-content index against the case rows (rank
    1: it fails on a case missing from the index or an index row without its case), and
    the insert trigger in place."""
    if ctx.db.dialect.name == "sqlite":
        with ctx.db.connect() as conn:
            conn.exec_driver_sql(
                "INSERT INTO case_search(case_search, rank) VALUES('integrity-check', 1)"
            )
            assert search_bulk.insert_trigger(conn) is not None


HEADER = ["工单编号", "来电人", "来电号码", "诉求内容", "事项分类", "网格", "承办单位"]
HEADER += ["受理时间", "派遣时间", "签收时间", "办结时间", "办理结果", "回访时间", "满意度"]
HEADER += ["结案时间"]


def test_a_csv_export_lands_and_names_the_column_of_a_bad_row(ctx, cli, tmp_path, capsys):
    done = ["2026-02-02 09:00", "2026/2/2 9:20", "2026-02-02 10:00", "2026-02-03 15:00"]
    rows = [
        ["GD1", "王芳", "13512340001", "路灯不亮", "01003", "01010101", "SZ-00", *done,
         "已修复", "2026-02-04 10:00", "满意", "2026-02-04 11:00"],
        ["GD2", "", "", "垃圾堆积", "06002", "01010101", "HW-01", "2026-02-05 09:00",
         "2026-02-05 09:20", "2026-02-05 10:00", "", "", "", "", ""],
        ["GD3", "", "", "井盖缺失", "11001", "", "SZ-00", "2026-02-05 09:00",
         "2026-02-05 09:20", "2026-02-05 10:00", "2026-02-06 10:00", "已处理",
         "2026-02-06 12:00", "很好", "2026-02-06 13:00"],
    ]  # fmt: skip
    source = tmp_path / "old.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    assert cli(["import", "history", str(source), "--quiet"]) == 1
    assert "3 records: 2 cases imported (1 open)" in capsys.readouterr().out
    cases = imported(ctx)
    assert cases["GD1"].state == "closed" and cases["GD2"].state == "in_progress"
    with (tmp_path / "old.errors.csv").open(encoding="utf-8-sig") as handle:
        (error,) = list(csv.DictReader(handle))
    assert (error["row"], error["ticket_no"], error["field"]) == ("4", "GD3", "satisfaction")
    assert findings(ctx) == []


def test_ids_taken_by_another_writer_meanwhile_are_given_up(ctx, tmp_path, monkeypatch):
    """On SQLite the ids of a chunk are reserved before it lands: a case filed in between
    takes one of them, and the batch is made again with new ids."""
    from audit_support import make_cases

    from engine.history import service
    from engine.history.service import HistoryImport, read_jsonl

    source = tmp_path / "history.jsonl"
    lines = generate(ctx, 30)
    write_lines(source, lines)
    reserve, calls = service.reserve_ids, []

    def reserve_then_someone_files(connection, count, above=0):
        ids = reserve(connection, count, above)
        if not calls and connection.dialect.name == "sqlite":
            make_cases(ctx, 1)  # another writer, before the batch lands
        calls.append(ids)
        return ids

    monkeypatch.setattr(service, "reserve_ids", reserve_then_someone_files)
    importer = HistoryImport(
        ctx.db, ctx.clock, ctx.workflow, ctx.city, ctx.calendars, ctx.audit_keys, batch=20
    )
    report = importer.run(read_jsonl(source), errors=lambda bad: None)
    assert (report.landed, report.errors) == (30, 0)
    if ctx.db.dialect.name == "sqlite":  # the first chunk was made again
        assert len(calls) == 3 and calls[1][0] > calls[0][0]
    assert len(imported(ctx)) == 30
    assert findings(ctx) == []


def test_an_extension_request_left_undecided_waits_on_the_approvals_queue(ctx, cli, tmp_path):
    """An open case whose old system left an extension request undecided lands waiting on
    it (case.pending_request), so /approvals and the navigation's counts show it."""
    lines = generate(ctx, 60, open_hours=24)
    records = [json.loads(line) for line in lines]
    handling = next(r for r in records if r["timeline"][-1]["action"] == "accept")
    handling["timeline"].append(
        {"action": "request_extension", "at": handling["timeline"][-1]["at"],
         "duration": "2wd", "reason": "需协调相关单位"}
    )  # fmt: skip
    source = tmp_path / "history.jsonl"
    write_lines(source, [json.dumps(r, ensure_ascii=False) for r in records])
    assert cli(["import", "history", str(source), "--quiet"]) == 0
    cases = imported(ctx)
    asked = cases[handling["old_id"]]
    assert (asked.pending_request, asked.pending_extension) == ("extension", "2wd")
    assert {c.pending_request for k, c in cases.items() if k != handling["old_id"]} == {None}
    assert findings(ctx) == []  # the audit trail vouches for the field
