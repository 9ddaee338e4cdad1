"""`gridflow calendar import FILE` loads a year's holiday notice as calendar overrides and
recomputes every open provisional deadline (and its timers), which the SLA API then shows
unmarked. The virtual clock stands at the end of 2026, the last year chinesecalendar knows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sla_support import act, auth, local_iso, sh, sla, stage
from sqlmodel import select

from engine.clock import FileClock
from engine.db import new_session
from engine.errors import InvalidInput
from engine.ops.calendar_notice import parse_notice
from engine.settings import get_settings
from engine.sla.models import CalendarOverride
from engine.timers.models import Timer, TimerKind, TimerStatus
from web.cli import main
from web.pages import board_data

DEPT = "HW-01"
DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
NOTICE = """\
year = 2027
source = "国办发明电〔2026〕test"

[[holiday]]
name = "元旦"
off = ["2027-01-01..2027-01-03"]
work = []

[[holiday]]
name = "春节"
off = ["2027-02-05..2027-02-12"]
work = ["2027-02-13", "2027-02-14"]
"""


@pytest.fixture
def cli_env(ctx, tmp_path, monkeypatch):
    """The CLI on the test's database, at the virtual clock's time (a shared clock file)."""
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, ctx.clock.now())
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_CLOCK_FILE", str(clock_file))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


async def handling_case(api, limit: str) -> int:
    case = await api.file()
    await act(api, case["id"], "dispatch", "dispatcher", department=DEPT, limits={"handle": limit})
    await act(api, case["id"], "accept", "handler", DEPT)
    return case["id"]


def board_provisional(ctx) -> int:
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        now, root = ctx.clock.now(), ctx.city.root
        return board_data.board(session, ctx.city, calendar, now, root).provisional


def pending(ctx, case_id: int) -> dict[TimerKind, object]:
    with new_session(ctx.db) as session:
        rows = session.exec(
            select(Timer).where(
                Timer.case_id == case_id,
                Timer.stage == "handle",
                Timer.status == TimerStatus.pending,
            )
        )
        return {row.kind: row.due_at for row in rows}


async def test_import_recomputes_and_unmarks_provisional_deadlines(api, clock, cli_env, capsys):
    clock.set(sh(2026, 12, 28, 9))  # Monday
    case_id = await handling_case(api, "10wd")
    handle = stage(await sla(api, case_id), "handle")
    # Counted Monday to Friday through 2027: New Year's Day taken as a workday.
    assert handle["provisional"] is True
    assert handle["due_local"] == local_iso(2027, 1, 11, 18)
    assert pending(api.ctx, case_id)[TimerKind.red] == sh(2027, 1, 11, 18)
    short = await handling_case(api, "1wd")  # due inside 2026: never provisional
    assert stage(await sla(api, short), "handle")["provisional"] is False
    assert board_provisional(api.ctx) == 1  # the board says how many, and why

    notice = cli_env / "holidays-2027.toml"
    notice.write_text(NOTICE, encoding="utf-8")
    assert main(["calendar", "import", str(notice)]) == 0
    out = capsys.readouterr().out
    assert "11 days off, 2 make-up workdays; 1 open provisional deadlines recomputed" in out

    handle = stage(await sla(api, case_id), "handle")
    assert handle["provisional"] is False
    assert handle["due_local"] == local_iso(2027, 1, 12, 18)  # one workday later
    assert board_provisional(api.ctx) == 0
    timers = pending(api.ctx, case_id)
    assert timers[TimerKind.red] == sh(2027, 1, 12, 18)
    assert timers[TimerKind.yellow] < timers[TimerKind.red]
    with new_session(api.ctx.db) as session:
        spring = session.get(CalendarOverride, sh(2027, 2, 14).date())
        assert spring is not None and spring.kind == "workday"
        assert spring.note.startswith("春节") and spring.updated_by == "cli: calendar import"
    days = await api.client.get(
        "/api/v1/calendar/days",
        params={"from": "2027-01-01", "to": "2027-01-04"},
        headers=auth(api.ctx, "admin"),
    )
    assert [d["workday"] for d in days.json()] == [False, False, False, True]

    # Importing again changes nothing: no deadline is provisional any more.
    assert main(["calendar", "import", str(notice)]) == 0
    assert "0 open provisional deadlines recomputed" in capsys.readouterr().out


async def test_a_dry_run_writes_nothing(api, clock, cli_env, capsys):
    clock.set(sh(2026, 12, 28, 9))
    case_id = await handling_case(api, "10wd")
    notice = cli_env / "n.toml"
    notice.write_text(NOTICE, encoding="utf-8")
    assert main(["calendar", "import", "--dry-run", str(notice)]) == 0
    assert "would load 2027" in capsys.readouterr().out
    assert stage(await sla(api, case_id), "handle")["provisional"] is True
    with new_session(api.ctx.db) as session:
        assert session.exec(select(CalendarOverride)).first() is None


async def test_the_admin_api_recomputes_too(api, clock):
    clock.set(sh(2026, 12, 28, 9))
    case_id = await handling_case(api, "10wd")
    items = [{"day": "2027-01-01", "kind": "holiday", "note": "元旦"}]
    answer = await api.client.put(
        "/api/v1/calendar/overrides", json={"items": items}, headers=auth(api.ctx, "admin")
    )
    assert answer.status_code == 200, answer.text
    handle = stage(await sla(api, case_id), "handle")
    assert (handle["provisional"], handle["due_local"]) == (False, local_iso(2027, 1, 12, 18))


@pytest.mark.parametrize(
    ("text", "field", "where"),
    [
        ('year = 2027\n[[holiday]]\nname = "x"\noff = ["2027-02-30"]\n', "off", ":4"),
        ('year = 2027\n[[holiday]]\nname = "x"\noff = ["2028-01-01"]\n', "off", ":4"),
        ('year = 2027\n[[holiday]]\nname = "x"\noff = ["2027-01-05..2027-01-01"]\n', "off", ":4"),
        (
            'year = 2027\n[[holiday]]\nname = "a"\noff = ["2027-01-01"]\n'
            '[[holiday]]\nname = "b"\noff = ["2027-01-02"]\nwork = ["2027-01-01"]\n',
            "work",
            ":8",
        ),
        ('year = 2027\n[[holiday]]\nname = "x"\nof = ["2027-01-01"]\n', "of", ":3"),
        ('year = "2027"\n[[holiday]]\nname = "x"\noff = ["2027-01-01"]\n', "year", ":1"),
        ("year = 2027\n", "holiday", ""),
    ],
)
def test_a_bad_notice_is_refused_naming_line_and_field(tmp_path, text, field, where):
    path = tmp_path / "notice.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        parse_notice(path)
    assert caught.value.details[0]["field"] == field
    assert f"notice.toml{where}" in str(caught.value)


def test_a_make_up_workday_may_fall_in_the_previous_december(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text(
        'year = 2027\n[[holiday]]\nname = "元旦"\noff = ["2027-01-01"]\nwork = ["2026-12-26"]\n',
        encoding="utf-8",
    )
    assert [(d.day.isoformat(), d.kind) for d in parse_notice(path).days] == [
        ("2027-01-01", "holiday"),
        ("2026-12-26", "workday"),
    ]


def test_the_shipped_example_parses():
    notice = parse_notice(DEPLOY / "holidays-2027.example.toml")
    assert notice.year == 2027 and notice.days


def test_the_cli_reports_a_bad_file(cli_env, capsys):
    path = cli_env / "bad.toml"
    path.write_text('year = 2027\n[[holiday]]\nname = "x"\noff = ["2027-13-01"]\n')
    assert main(["calendar", "import", str(path)]) == 2
    assert "bad.toml:4" in capsys.readouterr().err
