"""The audit trail is tamper-evident: `gridflow audit verify` names the first broken event."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.audit import ChainBreak, verify_chains
from engine.cases.models import CaseCreate
from engine.db import new_session
from engine.settings import get_settings
from engine.users.models import Principal, Role
from web.cli import main

OPERATOR = Principal(name="op", role=Role.operator, scope="00")
DISPATCHER = Principal(name="d", role=Role.dispatcher, scope="00")


def make_cases(ctx, n: int = 3) -> list[int]:
    ids = []
    for i in range(n):
        report = CaseCreate(channel="hotline", external_id=f"A-{i}", description=f"第{i}件")
        case = ctx.cases.intake(OPERATOR, report).case
        ctx.cases.act(DISPATCHER, case.id, "dispatch", {"department": "HW-01"})
        ids.append(case.id)
    return ids


def breaks(ctx) -> list[ChainBreak]:
    with new_session(ctx.db) as session:
        return [b for b in verify_chains(session) if isinstance(b, ChainBreak)]


def tamper(ctx, sql: str, **params) -> None:
    with ctx.db.begin() as conn:
        conn.execute(text(sql), params)


def test_untouched_chains_verify(ctx):
    make_cases(ctx)
    assert breaks(ctx) == []


def test_edited_event_is_detected(ctx):
    ids = make_cases(ctx)
    tamper(
        ctx,
        "UPDATE case_event SET data = :data WHERE case_id = :id AND seq = 3",
        data='{"department": "CG-01", "co_handlers": []}',
        id=ids[1],
    )
    assert breaks(ctx) == [ChainBreak(ids[1], 3, "content does not match its hash (edited)")]


def test_deleted_middle_event_and_truncated_tail_are_detected(ctx):
    ids = make_cases(ctx)
    tamper(ctx, "DELETE FROM case_event WHERE case_id = :id AND seq = 2", id=ids[0])
    tamper(ctx, "DELETE FROM case_event WHERE case_id = :id AND seq = 3", id=ids[2])
    found = {b.case_id: b for b in breaks(ctx)}
    assert found[ids[0]].seq == 2 and "missing" in found[ids[0]].reason
    assert found[ids[2]].seq is None and "truncated" in found[ids[2]].reason


def test_cli_exits_1_and_names_the_event(ctx, monkeypatch, capsys):
    ids = make_cases(ctx)
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    get_settings.cache_clear()
    try:
        assert main(["audit", "verify"]) == 0
        assert "all 3 audit chains verified" in capsys.readouterr().out
        tamper(
            ctx,
            "UPDATE case_event SET actor = 'mallory' WHERE case_id = :id AND seq = 1",
            id=ids[0],
        )
        assert main(["audit", "verify"]) == 1
        assert f"case {ids[0]}: event 1" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("batch", [1, 2])
def test_batches_cover_every_case(ctx, batch):
    make_cases(ctx, 5)
    with new_session(ctx.db) as session:
        counts = [x for x in verify_chains(session, batch=batch) if isinstance(x, int)]
    assert counts[-1] == 5
