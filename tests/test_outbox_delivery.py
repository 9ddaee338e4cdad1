"""The transactional outbox: messages written with the case change, posted signed to the
department's and the hotline's webhooks, retried with backoff until a receiver that fails
then recovers has every message exactly once (by message id), dead-lettered after the last
attempt, and redeliverable by an admin."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from adapters.webhook import MESSAGE_ID_HEADER, SIGNATURE_HEADER, WebhookDelivery, verify
from engine.outbox import leases as store
from engine.outbox.leases import RetryPolicy
from tests.intake_support import (
    HOTLINE_SECRET,
    HOTLINE_URL,
    department_webhook,
    hotline_webhook,
    outbox,
)

HW_URL, HW_SECRET = "http://hw01.demo-city.test/gridflow", "hw01-secret"
POLICY = RetryPolicy(max_attempts=4, base_delay=timedelta(seconds=30), batch=10)
TICKET = {
    "ticket_no": "12345-20260302-000901",
    "caller_name": "李建国",
    "caller_phone": "13700002222",
    "content": "湖滨路公交站旁井盖松动，行人踩上去晃动，存在安全隐患",
    "category": "01001",
    "grid_code": "01010101",
    "request_type": "举报",
}


class Receiver:
    """A webhook endpoint that keeps what it processed, dropping repeats by message id."""

    def __init__(self, failures: int = 0, lost_replies: int = 0) -> None:
        self.failures, self.lost_replies = failures, lost_replies
        self.attempts: list[str] = []
        self.processed: dict[str, dict] = {}
        self.times_processed: dict[str, int] = {}
        self.bodies: dict[str, set[bytes]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        message_id = request.headers[MESSAGE_ID_HEADER]
        self.attempts.append(message_id)
        self.bodies.setdefault(message_id, set()).add(request.content)
        secret = HW_SECRET if str(request.url) == HW_URL else HOTLINE_SECRET
        assert verify(secret, request.content, request.headers[SIGNATURE_HEADER])
        if self.failures > 0:
            self.failures -= 1
            return httpx.Response(503, text="维护中")
        if message_id not in self.processed:
            self.processed[message_id] = json.loads(request.content)
            self.times_processed[message_id] = self.times_processed.get(message_id, 0) + 1
        if self.lost_replies > 0:  # processed, but the answer never reaches gridflow
            self.lost_replies -= 1
            raise httpx.ReadTimeout("reply lost", request=request)
        return httpx.Response(200, json={"ok": True})


@pytest.fixture
def wired(ctx):
    hotline_webhook(ctx)
    department_webhook(ctx, "HW-01", HW_URL, HW_SECRET)
    return ctx


def delivery(ctx, receiver: Receiver) -> WebhookDelivery:
    client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    return WebhookDelivery(ctx.db, lambda: ctx.city, client, POLICY)


async def run_case(api) -> int:
    response = await api.client.post(
        "/api/v1/intake/hotline", json=TICKET, headers=api.auth("operator")
    )
    cid = response.json()["id"]
    await api.act(cid, "dispatch", "dispatcher", department="SZ-00")
    steps = [
        ("redispatch", "dispatcher", "00", {"department": "HW-01"}),
        ("accept", "handler", "HW-01", {}),
        ("resolve", "handler", "HW-01", {"result": "已更换井盖并加装防坠网"}),
        ("callback", "operator", "00", {"satisfaction": "satisfied"}),  # hotline: 回访, then
        ("verify", "grid_worker", "01010101", {"passed": True, "photos": ["p/a.jpg"]}),  # 核查
    ]
    for action, role, scope, data in steps:
        response = await api.act(cid, action, role, scope, **data)
        assert response.status_code == 200, response.text
    return cid


async def test_messages_are_written_with_the_change(api, wired):
    cid = await run_case(api)
    kinds = [(m.destination, m.kind) for m in outbox(wired)]
    assert kinds == [
        ("hotline", "accepted"),
        ("department:HW-01", "redispatch"),
        ("hotline", "reply"),
        ("department:HW-01", "callback"),
        ("hotline", "callback"),
        ("department:HW-01", "verify"),
        ("department:HW-01", "close"),  # the system closes it: both checks passed
        ("hotline", "closed"),
    ]  # SZ-00 has no webhook: nothing is queued for it
    body = json.loads(outbox(wired, "department:HW-01")[0].body)
    assert body["role"] == "lead" and body["case"]["id"] == cid
    assert body["case"]["category_name"] == "井盖破损"
    assert body["event"]["data"]["from_department"] == "SZ-00"
    assert "13700002222" not in outbox(wired)[1].body  # departments get no caller contact


async def test_receiver_that_fails_then_recovers_gets_everything_once(api, wired, clock):
    await run_case(api)
    receiver = Receiver(failures=3, lost_replies=1)
    worker = delivery(wired, receiver)
    rounds = 0
    while any(m.status != "delivered" for m in outbox(wired)):
        await worker.step(clock.now())
        clock.advance(minutes=5)
        rounds += 1
        assert rounds < 20
    messages = outbox(wired)
    assert set(receiver.processed) == {m.message_id for m in messages}
    assert set(receiver.times_processed.values()) == {1}
    assert len(receiver.attempts) > len(messages)  # it did fail, and was retried
    assert all(len(bodies) == 1 for bodies in receiver.bodies.values())  # same bytes each time
    assert all(m.delivered_at is not None and m.last_error is None for m in messages)
    # Per destination and case, messages were processed in the order they were written.
    order = [mid for mid in dict.fromkeys(receiver.attempts) if mid in receiver.processed]
    hotline_ids = [m.message_id for m in messages if m.destination == "hotline"]
    assert [mid for mid in order if mid in hotline_ids] == hotline_ids


async def test_backoff_and_lease(api, wired, clock):
    await api.client.post("/api/v1/intake/hotline", json=TICKET, headers=api.auth("operator"))
    receiver = Receiver(failures=1)
    worker = delivery(wired, receiver)
    report = await worker.step(clock.now())
    assert (report.claimed, report.failed) == (1, 1)
    [message] = outbox(wired)
    assert message.attempts == 1 and message.last_error == "HTTP 503"
    assert message.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert (await worker.step(clock.now() + timedelta(seconds=29))).claimed == 0
    # A worker that claims and dies holds the message only until its lease runs out.
    later = clock.now() + timedelta(seconds=30)
    assert len(store.claim_due(wired.db, later, POLICY)) == 1
    assert (await worker.step(later)).claimed == 0
    report = await worker.step(later + POLICY.lease + timedelta(seconds=1))
    assert report.delivered == 1 and outbox(wired)[0].status == "delivered"


async def test_dead_letter_and_redelivery_by_an_admin(api, wired, clock):
    await api.client.post("/api/v1/intake/hotline", json=TICKET, headers=api.auth("operator"))
    broken = delivery(wired, Receiver(failures=100))
    for _ in range(POLICY.max_attempts):
        await broken.step(clock.now())
        clock.advance(hours=2)
    [message] = outbox(wired)
    assert message.status == "dead" and message.attempts == POLICY.max_attempts

    admin = api.auth("admin")
    dead = (await api.client.get("/api/v1/admin/outbox?status=dead", headers=admin)).json()
    assert dead["total"] == 1 and dead["items"][0]["message_id"] == message.message_id
    assert dead["items"][0]["last_error"] == "HTTP 503"
    refused = await api.client.get("/api/v1/admin/outbox", headers=api.auth("dispatcher"))
    assert refused.status_code == 403

    again = await api.client.post(f"/api/v1/admin/outbox/{message.id}/redeliver", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    twice = await api.client.post(f"/api/v1/admin/outbox/{message.id}/redeliver", headers=admin)
    assert twice.status_code == 409
    missing = await api.client.post("/api/v1/admin/outbox/999/redeliver", headers=admin)
    assert missing.status_code == 404

    receiver = Receiver()
    await delivery(wired, receiver).step(clock.now())
    assert list(receiver.processed) == [message.message_id]
    assert outbox(wired)[0].status == "delivered"


async def test_unreachable_receiver_is_a_failed_attempt(api, wired, clock):
    await api.client.post("/api/v1/intake/hotline", json=TICKET, headers=api.auth("operator"))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    report = await WebhookDelivery(wired.db, lambda: wired.city, client, POLICY).step(clock.now())
    assert report.failed == 1
    assert outbox(wired)[0].last_error.startswith("ConnectError")
    assert outbox(wired)[0].url == HOTLINE_URL


async def test_server_starts_and_stops_the_delivery_loop(make_ctx):
    ctx = make_ctx(outbox_poll_seconds=60)
    await ctx.channels.start()
    task = ctx.channels._task
    assert task is not None and not task.done()
    await ctx.channels.stop()
    assert task.cancelled() and ctx.channels._task is None
    off = make_ctx(outbox_poll_seconds=0)
    await off.channels.start()
    assert off.channels._task is None


async def test_co_handlers_and_withdrawn_leads_hear_too(api, wired):
    department_webhook(wired, "CG-01", "http://cg01.demo-city.test/hook", "cg01-secret")
    response = await api.client.post(
        "/api/v1/intake/hotline", json=TICKET, headers=api.auth("operator")
    )
    cid = response.json()["id"]
    dispatched = await api.act(
        cid, "dispatch", "dispatcher", department="HW-01", co_handlers=["CG-01"]
    )
    assert dispatched.status_code == 200
    moved = await api.act(cid, "redispatch", "dispatcher", department="CG-01")
    assert moved.status_code == 200
    sent = [(m.destination, m.kind, json.loads(m.body)["role"]) for m in outbox(wired)[1:]]
    assert sent == [
        ("department:HW-01", "dispatch", "lead"),
        ("department:CG-01", "dispatch", "co_handler"),
        ("department:CG-01", "redispatch", "lead"),
        ("department:HW-01", "withdrawn", "previous_lead"),
    ]


async def test_the_department_hears_how_its_void_request_was_decided(api, wired):
    response = await api.client.post(
        "/api/v1/intake/hotline", json=TICKET, headers=api.auth("operator")
    )
    cid = response.json()["id"]
    await api.act(cid, "dispatch", "dispatcher", department="HW-01")
    steps = [
        ("request_void", "handler", "HW-01", {"reason": "重复工单"}),
        ("reject_void", "dispatcher", "00", {"reason": "不是重复，请继续办理"}),
        ("request_void", "handler", "HW-01", {"reason": "无效来电"}),
        ("void", "dispatcher", "00", {"reason": "核实为无效来电"}),
    ]
    for action, role, scope, data in steps:
        response = await api.act(cid, action, role, scope, **data)
        assert response.status_code == 200, response.text
    heard = [m.kind for m in outbox(wired, "department:HW-01")]
    assert heard == ["dispatch", "reject_void", "void"]  # not its own requests


async def test_the_department_hears_when_the_caller_calls_again(api, wired):
    response = await api.client.post(
        "/api/v1/intake/hotline", json=TICKET, headers=api.auth("operator")
    )
    cid = response.json()["id"]
    await api.act(cid, "dispatch", "dispatcher", department="HW-01")
    urged = await api.act(cid, "urge", "operator", "00", note="市民再次来电，井盖仍未修好")
    assert urged.status_code == 200, urged.text
    heard = outbox(wired, "department:HW-01")
    assert [m.kind for m in heard] == ["dispatch", "urge"]
    assert json.loads(heard[-1].body)["event"]["data"]["note"] == "市民再次来电，井盖仍未修好"
    refused = await api.act(cid, "urge", "handler", "HW-01", note="自己催自己")
    assert refused.status_code == 403  # the department does not urge itself
