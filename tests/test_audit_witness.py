"""Audit checkpoints posted to an external witness (issue 18): with
GRIDFLOW_AUDIT_WITNESS_URL set, `gridflow audit checkpoint` queues the signed line through
the outbox, which posts exactly the line the file holds; a checkpoint the outbox missed is
queued on the next run; without the setting nothing is queued."""

from __future__ import annotations

import json

import httpx
import pydantic
import pytest
from audit_support import make_cases
from sqlmodel import col, select

from adapters.webhook import MESSAGE_ID_HEADER, WebhookDelivery
from engine.audit import checkpoints_file
from engine.db import new_session
from engine.outbox.models import OutboxMessage, OutboxStatus
from engine.outbox.witness import DESTINATION
from engine.settings import Settings, get_settings
from web.cli import main

WITNESS = "https://witness.example.test/gridflow/checkpoints"


@pytest.fixture
def cli(ctx, monkeypatch):
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(ctx.settings.instance_dir))
    get_settings.cache_clear()

    def run(*args: str, witness: str | None = None) -> int:
        if witness:
            monkeypatch.setenv("GRIDFLOW_AUDIT_WITNESS_URL", witness)
        else:
            monkeypatch.delenv("GRIDFLOW_AUDIT_WITNESS_URL", raising=False)
        get_settings.cache_clear()
        return main(list(args))

    yield run
    get_settings.cache_clear()


def witness_messages(ctx) -> list[OutboxMessage]:
    with new_session(ctx.db) as session:
        query = select(OutboxMessage).where(OutboxMessage.destination == DESTINATION)
        return list(session.exec(query.order_by(col(OutboxMessage.id))))


def lines(ctx) -> list[str]:
    path = checkpoints_file(ctx.settings.instance_dir)
    return path.read_text(encoding="utf-8").splitlines()


async def test_the_signed_line_is_posted_to_the_witness(ctx, cli, capsys):
    make_cases(ctx)
    assert cli("audit", "checkpoint", witness=WITNESS) == 0
    assert f"queued for the audit witness at {WITNESS}" in capsys.readouterr().out
    [message] = witness_messages(ctx)
    [line] = lines(ctx)
    assert message.case_id is None and message.url == WITNESS
    assert message.body == line and json.loads(line)["mac"]
    received: list[httpx.Request] = []

    def witness(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(201)

    client = httpx.AsyncClient(transport=httpx.MockTransport(witness))
    due = message.next_attempt_at  # the CLI runs on the system clock
    report = await WebhookDelivery(ctx.db, lambda: ctx.city, client).step(due)
    assert report.delivered == 1
    [posted] = received
    assert str(posted.url) == WITNESS and posted.content.decode() == line
    assert posted.headers[MESSAGE_ID_HEADER] == message.message_id
    assert witness_messages(ctx)[0].status == OutboxStatus.delivered


def test_a_checkpoint_the_outbox_missed_goes_out_on_the_next_run(ctx, cli, capsys):
    make_cases(ctx, 2)
    assert cli("audit", "checkpoint") == 0  # no witness configured yet: nothing queued
    assert witness_messages(ctx) == []
    make_cases(ctx, 1)
    assert cli("audit", "checkpoint", witness=WITNESS) == 0
    assert "(the server's outbox posts it): 1, 2" in capsys.readouterr().out
    assert [m.body for m in witness_messages(ctx)] == lines(ctx)
    assert cli("audit", "checkpoint", witness=WITNESS) == 0  # nothing new, nothing again
    out = capsys.readouterr().out
    assert "no events since the last checkpoint" in out and "queued" not in out
    assert len(witness_messages(ctx)) == 2


async def test_admins_see_witness_messages_in_the_outbox(ctx, cli, api):
    make_cases(ctx)
    assert cli("audit", "checkpoint", witness=WITNESS) == 0
    listed = await api.client.get("/api/v1/admin/outbox", headers=api.auth("admin"))
    assert listed.status_code == 200, listed.text
    [item] = [m for m in listed.json()["items"] if m["destination"] == DESTINATION]
    assert item["case_id"] is None and item["kind"] == "audit_checkpoint"


def test_the_witness_url_must_be_http(tmp_path):
    with pytest.raises(pydantic.ValidationError, match="audit_witness_url"):
        Settings(audit_witness_url="file:///etc/passwd")
