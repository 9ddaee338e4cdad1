"""`gridflow rules`: check (errors exit 1), test (mismatches exit 1), explain, backtest,
activate, and `gridflow init` activating the city's rules.toml."""

from __future__ import annotations

import shutil

import pytest

from engine.cases.models import CaseCreate
from engine.settings import get_settings
from engine.users.models import Principal, Role
from tests.dispatch_support import DEMO_CITY, DEMO_RULES, activate, case_row
from web.cli import main

RULES = str(DEMO_CITY / "rules.toml")
TESTS = str(DEMO_CITY / "rules_test.csv")
CITY = ["--city", str(DEMO_CITY)]
SHADOWED = DEMO_RULES.replace(  # a narrower row after the general one never decides
    '[[rule]]\nid = "illegal-building-0101"',
    '[[rule]]\nid = "sanitation-02-again"\ncategory = ["06002"]\narea = ["0201"]\n'
    'department = "HW-02"\n\n[[rule]]\nid = "illegal-building-0101"',
)


@pytest.fixture
def db(ctx, monkeypatch):
    """The CLI's database is the test's."""
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    get_settings.cache_clear()
    yield ctx
    get_settings.cache_clear()


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_the_demo_table_has_no_errors(capsys):
    assert main(["rules", "check", RULES]) == 0
    out = capsys.readouterr().out
    assert "73 rows" in out and "0 error(s)" in out


def test_check_reports_a_shadowed_row_and_exits_1(tmp_path, capsys):
    path = write(tmp_path, "rules.toml", SHADOWED)
    assert main(["rules", "check", path, *CITY]) == 1
    out = capsys.readouterr().out
    assert "error: [shadowed] rule 'sanitation-02-again' (#25) never decides" in out
    assert "rule 'sanitation-02' (#24)" in out and "1 error(s)" in out


def test_check_reports_unknown_codes_and_a_missing_default(tmp_path, capsys):
    text = '[[rule]]\nid = "x"\ncategory = ["99"]\ndepartment = "NOPE"\n'
    assert main(["rules", "check", write(tmp_path, "r.toml", text), *CITY]) == 1
    out = capsys.readouterr().out
    assert "unknown department code 'NOPE'" in out
    assert "prefix '99' matches no known category" in out
    assert "no default row" in out


def test_the_demo_sample_cases_pass(capsys):
    assert main(["rules", "test", TESTS]) == 0
    assert "73 of 73 cases as expected" in capsys.readouterr().out


def test_a_mismatch_is_printed_and_exits_1(tmp_path, capsys):
    sample = (
        "name,category,unit,description,expect,expect_rule\n"
        "right,06002,01010101,垃圾,HW-01,sanitation-01\n"
        "wrong department,06002,02010101,垃圾,HW-02,\n"
        "wrong rule,09002,01010101,占道,CG-0101,parking\n"
    )
    path = write(tmp_path, "cases.csv", sample)
    assert main(["rules", "test", path, "--rules", RULES, *CITY]) == 1
    out = capsys.readouterr().out
    assert "FAIL wrong department: expected HW-02, got HWGS-02 (rule sanitation-02)" in out
    assert "FAIL wrong rule: expected CG-0101 (rule parking)" in out
    assert "FAIL right" not in out and "1 of 3 cases as expected" in out


def test_a_toml_sample_file_and_bad_input(tmp_path, capsys):
    toml = '[[case]]\ncategory = "12001"\nunit = "01"\nexpect = "queue"\n'
    assert main(["rules", "test", write(tmp_path, "c.toml", toml), "--rules", RULES]) == 0
    bad = write(tmp_path, "bad.csv", "category,expect\n06002,HW-01\n99999,HW-01\n")
    assert main(["rules", "test", bad, "--rules", RULES]) == 2
    assert "line 3: unknown category '99999'" in capsys.readouterr().err
    assert main(["rules", "test", str(tmp_path / "missing.csv"), "--rules", RULES]) == 2


OPERATOR = Principal("op", Role.operator, "00")


def closed_case(ctx, **fields) -> int:
    """File, rule-dispatch and close a case; return its id."""
    data = {
        "channel": "hotline",
        "category": "06002",
        "description": "垃圾",
        "grid_code": "01010101",
    }
    case = ctx.cases.intake(OPERATOR, CaseCreate(**(data | fields))).case
    lead = case_row(ctx, case.id).lead_department
    handler = Principal("h", Role.handler, lead)
    ctx.cases.act(handler, case.id, "accept", {})
    ctx.cases.act(handler, case.id, "resolve", {"result": "已处理"})
    ctx.cases.act(Principal("d", Role.dispatcher, "00"), case.id, "close", {"reason": "已核实"})
    return case.id


def test_backtest_lists_the_cases_a_candidate_would_move(db, tmp_path, capsys):
    activate(db)
    east = closed_case(db)  # HW-01
    west = closed_case(db, grid_code="02010101")  # HWGS-02
    assert main(["rules", "backtest", RULES]) == 0
    assert "2 closed cases replayed" in capsys.readouterr().out
    candidate = DEMO_RULES.replace('department = "HWGS-02"', 'department = "HW-02"')
    path = write(tmp_path, "candidate.toml", candidate)
    assert main(["rules", "backtest", path]) == 0
    out = capsys.readouterr().out
    assert f"case {west}: handled by HWGS-02, candidate → HW-02 (rule sanitation-02)" in out
    assert f"case {east}:" not in out and "1 same, 1 would go elsewhere" in out
    assert main(["rules", "backtest", path, "--max-moved", "0"]) == 1
    broken = write(tmp_path, "broken.toml", SHADOWED)
    assert main(["rules", "backtest", broken]) == 2
    assert "shadowed" in capsys.readouterr().err


def test_activate_explain_and_versions(db, tmp_path, capsys):
    assert main(["rules", "activate", RULES, "--by", "ops"]) == 0
    assert "activated version" in capsys.readouterr().out
    broken = write(tmp_path, "broken.toml", SHADOWED)
    assert main(["rules", "activate", broken]) == 1
    assert "refused; the active table is unchanged" in capsys.readouterr().out
    assert (
        main(["rules", "explain", "--category", "09002", "--unit", "0201", "--description", "x"])
        == 0
    )
    out = capsys.readouterr().out
    assert "rule 'street-order-0201'" in out and "→ CG-0201" in out
    case = db.cases.intake(
        OPERATOR,
        CaseCreate(channel="hotline", category="06002", description="垃圾", grid_code="01010101"),
    ).case
    assert main(["rules", "explain", "--case", str(case.id)]) == 0
    out = capsys.readouterr().out
    assert "source rule, department HW-01" in out and "'sanitation-01'" in out
    assert main(["rules", "versions"]) == 0
    assert "* " in capsys.readouterr().out


def test_init_activates_the_city_rules(tmp_path, monkeypatch, capsys):
    city = tmp_path / "city"
    shutil.copytree(DEMO_CITY, city, ignore=shutil.ignore_patterns("users.toml"))  # no hashing
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'init.db'}")
    get_settings.cache_clear()
    try:
        assert main(["init", "--city", str(city)]) == 0
        assert "rules.toml: version" in capsys.readouterr().out
        assert main(["init", "--city", str(city)]) == 0
        assert "already active" in capsys.readouterr().out
        (city / "rules.toml").write_text(SHADOWED, encoding="utf-8")
        assert main(["init", "--city", str(city)]) == 2  # refused: nothing is written
        assert "shadowed" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
