"""`gridflow audit verify | checkpoint | rotate-key`: what they print and their exit codes."""

from __future__ import annotations

import pytest
from audit_support import delete_case, make_cases, tamper

from engine.settings import get_settings
from web.cli import main


@pytest.fixture
def cli(ctx, monkeypatch):
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(ctx.settings.instance_dir))
    get_settings.cache_clear()
    yield main
    get_settings.cache_clear()


def test_verify_checkpoint_and_rotate(ctx, cli, capsys):
    make_cases(ctx)
    assert cli(["audit", "verify"]) == 0
    assert "audit trail verified: 3 cases, 9 events" in capsys.readouterr().out
    assert cli(["audit", "checkpoint"]) == 0
    assert "checkpoint 1: 9 events up to global number 9, signed with audit key 1" in (
        capsys.readouterr().out
    )
    assert cli(["audit", "checkpoint"]) == 0
    assert "no events since the last checkpoint" in capsys.readouterr().out
    assert cli(["audit", "rotate-key"]) == 0
    assert "audit key 2 is now current" in capsys.readouterr().out
    key = ctx.settings.instance_dir / "keys" / "audit-2.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert cli(["audit", "verify"]) == 0


def test_verify_names_every_finding_and_exits_1(ctx, cli, capsys):
    ids = make_cases(ctx, 4)
    tamper(ctx, 'UPDATE "case" SET state = :s WHERE id = :id', s="closed", id=ids[0])
    tamper(
        ctx, "UPDATE case_event SET actor = 'mallory' WHERE case_id = :id AND seq = 2", id=ids[3]
    )
    delete_case(ctx, ids[1])
    assert cli(["audit", "verify", "--batch", "2"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"case {ids[0]}, event 3, field state: case row changed: state differs from what "
        "event 3 left",
        f"case {ids[3]}, event 2: edited event: content does not match its MAC",
        "trail: deleted events: global numbers 4–6 are missing (3 events of a deleted case, "
        f"or deleted events), between case {ids[0]} event 3 and case {ids[2]} event 1",
    ]
    assert "3 findings in the audit trail" in err
