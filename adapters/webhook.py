"""Outbound delivery: post outbox messages to department and hotline webhooks.

Each POST carries the stored JSON body unchanged, ``X-Gridflow-Message-Id`` (the same on every
retry, so receivers drop repeats) and ``X-Gridflow-Signature: sha256=<hex HMAC-SHA256 of the
body>`` keyed with the destination's secret (departments.toml ``webhook_secret``, city.toml
``[hotline] secret``). A 2xx answer delivers the message; anything else is retried with
exponential backoff and dead-lettered after the last attempt (engine/outbox/leases.py).

:meth:`WebhookDelivery.step` is one pass, a plain call taking ``now``: tests drive it with the
virtual clock, the server calls it in a loop (:func:`run_forever`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.engine import Engine

from engine.city.directory import CityDirectory
from engine.clock import Clock
from engine.outbox import leases as store
from engine.outbox.leases import Claimed, Outcome, RetryPolicy

log = logging.getLogger("gridflow.webhook")

SIGNATURE_HEADER = "X-Gridflow-Signature"
MESSAGE_ID_HEADER = "X-Gridflow-Message-Id"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature)


def secret_for(city: CityDirectory, destination: str) -> str | None:
    if destination == "hotline":
        return (city.settings.get("hotline") or {}).get("secret") or None
    if destination.startswith("department:"):
        department = city.departments.get(destination.removeprefix("department:"))
        return department.webhook_secret if department else None
    return None


@dataclass(frozen=True)
class StepReport:
    claimed: int
    delivered: int
    failed: int
    dead: int


class WebhookDelivery:
    def __init__(
        self,
        db: Engine,
        city: Callable[[], CityDirectory],
        client: httpx.AsyncClient,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.db, self._city, self.client = db, city, client
        self.policy = policy or RetryPolicy()

    async def step(self, now: datetime) -> StepReport:
        """Claim due messages, post them concurrently, record the outcomes."""
        claimed = await asyncio.to_thread(store.claim_due, self.db, now, self.policy)
        if not claimed:
            return StepReport(0, 0, 0, 0)
        city = self._city()
        outcomes = await asyncio.gather(*(self._post(city, m) for m in claimed))
        dead = await asyncio.to_thread(store.finish, self.db, list(outcomes), now, self.policy)
        delivered = sum(1 for o in outcomes if o.ok)
        return StepReport(len(claimed), delivered, len(claimed) - delivered, dead)

    async def _post(self, city: CityDirectory, message: Claimed) -> Outcome:
        body = message.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            MESSAGE_ID_HEADER: message.message_id,
            "X-Gridflow-Attempt": str(message.attempts + 1),
            "User-Agent": "gridflow-webhook/1",
        }
        secret = secret_for(city, message.destination)
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        try:
            response = await self.client.post(message.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(message.id, message.claim, False, f"{type(exc).__name__}: {exc}")
        if 200 <= response.status_code < 300:
            return Outcome(message.id, message.claim, True)
        return Outcome(message.id, message.claim, False, f"HTTP {response.status_code}")


async def run_forever(delivery: WebhookDelivery, clock: Clock, interval: float) -> None:
    """The server's loop: a pass, then a pause when there was nothing to do."""
    while True:
        try:
            report = await delivery.step(clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:  # keep delivering after a database hiccup; it is logged
            log.exception("outbox delivery pass failed")
            report = StepReport(0, 0, 0, 0)
        if report.claimed < delivery.policy.batch:
            await asyncio.sleep(interval)
