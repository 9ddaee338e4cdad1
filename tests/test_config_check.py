"""A city directory is refused before anything is loaded: `gridflow config check` and
`gridflow init` name the file, the line and the field of every problem; init will not load
one city over another without --replace-city."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from engine.city.models import CityConfig, Unit
from engine.db import make_engine, new_session
from engine.settings import get_settings
from web.cli import main

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo_city"


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """A copy of the demo city to break."""
    return Path(shutil.copytree(DEMO, tmp_path / "city"))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def use(url: str) -> None:
        monkeypatch.setenv("GRIDFLOW_DATABASE_URL", url)
        monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_demo_city_passes(capsys):
    assert main(["config", "check", str(DEMO)]) == 0
    assert "示范市" in capsys.readouterr().out


def test_a_misspelled_time_zone_is_refused_with_a_suggestion(city, capsys):
    edit(city / "city.toml", 'timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"')
    assert main(["config", "check", str(city)]) == 1
    out = capsys.readouterr().out
    assert "city.toml line 6, field 'timezone'" in out
    assert "'Asia/Beijing'" in out and "did you mean 'Asia/Shanghai'" in out


def test_every_problem_is_named_by_file_line_and_field(city, capsys):
    edit(city / "city.toml", '"14:00-18:00"]', '"11:00-18:00"]')
    edit(city / "city.toml", "yellow_at = 0.8", "yellow_at = 1.5")
    edit(city / "city.toml", '#   "2031-10-01" = "holiday"', '"2031-10-01" = "holliday"')
    edit(city / "departments.toml", 'unit = "00"', 'unit = "99"')
    edit(city / "categories.toml", 'handle = "5wd"', 'handle = "5 weeks"')
    assert main(["config", "check", str(city)]) == 1
    out = capsys.readouterr().out
    assert "city.toml line 12, field 'work.windows'" in out and "overlap" in out
    assert "city.toml line 15, field 'sla.yellow_at': must be a number between 0 and 1" in out
    assert "field 'calendar.overrides.2031-10-01'" in out and "'holliday'" in out
    assert "departments.toml line 15, field 'unit'" in out and "'99' is not in units.csv" in out
    assert "categories.toml line 42, field 'limits.normal.handle': category 01001:" in out
    assert "'5 weeks'" in out


def test_the_org_tree_is_checked_row_by_row(city, capsys):
    edit(city / "units.csv", "0101,湖滨街道,street,01", "0101,湖滨街道,strete,01")
    edit(city / "units.csv", "0102,清波街道,street,01", "0102,清波街道,street,09")
    assert main(["config", "check", str(city)]) == 1
    out = capsys.readouterr().out
    assert "units.csv line 5, field 'tier': 'strete' is not one of" in out
    assert "units.csv line 6, field 'parent': 0102: parent '09' is unknown" in out


def test_references_to_grids_categories_departments_are_checked(city, capsys):
    edit(city / "video.toml", 'grid = "01010101"', 'grid = "01019999"')
    assert main(["config", "check", str(city)]) == 1
    assert "video.toml: camera CAM-010101-01: unknown grid '01019999'" in capsys.readouterr().out
    shutil.copy(DEMO / "video.toml", city / "video.toml")
    edit(city / "rules.toml", 'department = "RQ-00"', 'department = "RQ-99"')
    assert main(["config", "check", str(city)]) == 1
    out = capsys.readouterr().out
    assert "rules.toml:" in out and "RQ-99" in out


def test_an_unknown_setting_is_a_warning_naming_its_line(city, capsys):
    edit(city / "city.toml", "[work]", 'timezon = "Asia/Shanghai"\n\n[work]')
    assert main(["config", "check", str(city)]) == 0
    assert "warning: city.toml line 9, field 'timezon': unknown setting" in capsys.readouterr().out


def test_init_runs_the_same_checks_before_writing(city, tmp_path, env, capsys):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    env(url)
    edit(city / "city.toml", 'timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"')
    assert main(["init", "--city", str(city)]) == 2
    assert "did you mean 'Asia/Shanghai'" in capsys.readouterr().err
    assert not (tmp_path / "new.db").exists()


def test_init_refuses_another_city_over_an_existing_one(city, db_url, env, capsys):
    env(db_url)
    edit(city / "city.toml", 'name = "示范市"', 'name = "另一市"')
    assert main(["init", "--city", str(city)]) == 2
    err = capsys.readouterr().err
    assert "holds another city (示范市, city unit 00)" in err and "--replace-city" in err
    db = make_engine(db_url)
    try:
        with new_session(db) as session:
            assert session.get(CityConfig, 1).name == "示范市"
        assert main(["init", "--city", str(city), "--replace-city"]) == 0
        with new_session(db) as session:
            assert session.get(CityConfig, 1).name == "另一市"
            assert session.exec(select(Unit).where(Unit.code == "00")).one()
        assert main(["init", "--city", str(city)]) == 0  # the same city again: an update
    finally:
        db.dispose()
