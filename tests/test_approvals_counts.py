"""The navigation's approval counts are kept counts: ``case.pending_request`` is set and
cleared by the write path, so a page's counts are one read of ix_case_pending_request (no
cache, no read of each open case or its events); migration 2b8e6f0a1c0b fills it for the
requests already waiting."""

from __future__ import annotations

import base64

import pytest
from dispatch_support import activate, case_row
from page_support import file_hotline, login
from sqlalchemy import text

from engine.schema import downgrade_schema, upgrade_schema
from engine.users.models import Principal, Role
from tests.test_search_explain import captured, plan


async def _in_progress(api, description: str) -> int:
    case = await api.file(description=description)
    if case["state"] != "assigned":
        await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    answer = await api.act(case["id"], "accept", "handler", "HW-01")
    assert answer.status_code == 200, answer.text
    return case["id"]


@pytest.mark.parametrize("scope", ["00", "0101"])
async def test_the_counts_read_the_pending_request_index(api, ctx, scope):
    activate(ctx)
    for i, (action, data) in enumerate(
        [
            ("request_extension", {"duration": "1wd", "reason": "配件"}),
            ("request_suspension", {"reason": "等待答复"}),
            ("request_void", {"reason": "重复工单"}),
        ]
    ):
        case_id = await _in_progress(api, f"路灯不亮{i}")
        answer = await api.act(case_id, action, "handler", "HW-01", **data)
        assert answer.status_code == 200, answer.text
    await login(api, "dispatcher", scope)
    with captured(ctx.db) as statements:
        response = await api.client.get("/cases")
    assert response.status_code == 200
    assert "延期申请 1 件，挂起申请 1 件，作废申请 1 件" in response.text
    counts = [s for s in statements if "pending_request" in s[0] and "count(" in s[0].lower()]
    assert len(counts) == 1, "one grouped count of the waiting requests"
    lines = " ".join(plan(ctx.db, *counts[0]))
    assert "ix_case_pending_request" in lines, lines
    events = [s for s in statements if "case_event" in s[0]]
    assert not events, "the counts read no audit event"


def test_the_migration_fills_the_requests_already_waiting(ctx):
    handler = Principal("handler-hw-01", Role.handler, "HW-01")
    activate(ctx)
    ids = {}
    for name in ("extension", "suspension", "answered", "none"):
        ids[name] = file_hotline(ctx, f"待迁移的案件 {name}")
        ctx.cases.act(handler, ids[name], "accept", {})
    asks = {"duration": "1wd", "reason": "配件"}
    ctx.cases.act(handler, ids["extension"], "request_extension", asks)
    ctx.cases.act(handler, ids["suspension"], "request_suspension", {"reason": "等待"})
    ctx.cases.act(handler, ids["answered"], "request_suspension", {"reason": "等待"})
    dispatcher = Principal("d", Role.dispatcher, "00")
    ctx.cases.act(dispatcher, ids["answered"], "reject_suspension", {"reason": "请先处置"})
    downgrade_schema(ctx.db, "2b8e6f0a1c0a")
    with ctx.db.connect() as connection:
        columns = connection.execute(text('SELECT * FROM "case" LIMIT 1')).keys()
        assert "pending_request" not in columns
    upgrade_schema(ctx.db)
    kept = {name: case_row(ctx, case_id).pending_request for name, case_id in ids.items()}
    assert kept == {"extension": "extension", "suspension": "suspension", "answered": None,
                    "none": None}  # fmt: skip


def test_the_kept_request_is_vouched_for_by_the_audit_trail(ctx):
    """pending_request is a field of the row tags: editing it is named by `audit verify`; a
    case whose latest event was tagged before the field existed still verifies."""
    from audit_support import findings, kinds, tamper

    from engine.audit import Tamper
    from engine.audit.chain import FIRST_FIELDS, TAG_BYTES, changed_fields, row_digest

    handler = Principal("handler-hw-01", Role.handler, "HW-01")
    activate(ctx)
    case_id = file_hotline(ctx, "被篡改的申请")
    ctx.cases.act(handler, case_id, "accept", {})
    ctx.cases.act(handler, case_id, "request_void", {"reason": "重复工单"})
    assert findings(ctx) == []
    seq = case_row(ctx, case_id).version  # the latest event's
    tamper(ctx, 'UPDATE "case" SET pending_request = NULL WHERE id = :id', id=case_id)
    assert kinds(findings(ctx)) == {(Tamper.case_row_changed, case_id, seq, "pending_request")}
    key = ctx.audit_keys.current()
    row = case_row(ctx, case_id)
    older = row_digest(key, row).encode("ascii")
    before = base64.urlsafe_b64encode(base64.urlsafe_b64decode(older)[: FIRST_FIELDS * TAG_BYTES])
    assert changed_fields(key, before.decode("ascii"), row) == []
